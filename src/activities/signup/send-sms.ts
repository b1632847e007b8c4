import { phoneProblem } from '../../core/signup-event';
import { invalidInput } from '../errors';
import { effectId, effectKeyProblem, type EffectLedger } from './ledger';
import type { SmsTransport } from './sms-transport';
import type { SmsDelivery, SmsRequest } from './types';

export interface SendSmsDeps {
  transport: SmsTransport;
  ledger: EffectLedger;
}

/**
 * The `sendSms` activity: one SMS through the configured transport, at most once per (workflow,
 * step) as far as the ledger can tell — recorded after the transport accepted it, so (as with
 * mail) only a worker dying between the hand-over and the record can cause a second send, and
 * that one carries the same message ID for the receiver to drop.
 */
export function createSendSms(deps: SendSmsDeps) {
  return async function sendSms(request: SmsRequest): Promise<SmsDelivery> {
    const problems = [
      phoneProblem(request.to),
      request.text?.trim() ? undefined : 'the text is empty',
      effectKeyProblem(request.key),
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) {
      throw invalidInput(`Cannot send this SMS: ${problems.join('; ')}.`, { to: request.to, key: request.key });
    }
    const recorded = await deps.ledger.find<SmsDelivery>(request.key);
    if (recorded) return { ...recorded, fromLedger: true };

    const messageId = effectId(request.key);
    await deps.transport.send({ id: messageId, to: request.to, text: request.text });
    const delivery: SmsDelivery = {
      to: request.to,
      text: request.text,
      messageId,
      transport: deps.transport.kind,
      acceptedAt: new Date().toISOString(),
      fromLedger: false,
    };
    await deps.ledger.record(request.key, delivery);
    return delivery;
  };
}
