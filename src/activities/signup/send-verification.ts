import { invalidInput } from '../errors';
import { effectKeyProblem } from './ledger';
import type { EmailDelivery, EmailRequest, VerificationCheck, VerificationRequest } from './types';
import { codeMatches, verificationCode } from './verification-code';
import { verificationMailFor } from '../../core/signup-messages';

export interface VerificationDeps {
  sendEmail: (request: EmailRequest) => Promise<EmailDelivery>;
  /** The code secret every sign-up worker shares (verification-secret.ts). */
  loadSecret: () => Promise<Buffer>;
}

/**
 * The activities of the sign-up's code: `sendVerificationCode` makes the code and mails it (once
 * per key, through `sendEmail` and its ledger), `checkVerificationCode` compares an entered code.
 * The code exists only here and in the mail; what goes back to the workflow carries none of it.
 */
export function createVerificationActivities(deps: VerificationDeps) {
  let secret: Promise<Buffer> | undefined;
  const loadSecret = () =>
    (secret ??= deps.loadSecret().catch((error: unknown) => {
      secret = undefined; // a read error is retried on the next attempt
      throw error;
    }));

  async function sendVerificationCode(request: VerificationRequest): Promise<EmailDelivery> {
    const expiresAt = new Date(request.expiresAt);
    const keyProblem = effectKeyProblem(request.key);
    if (keyProblem || Number.isNaN(expiresAt.getTime()) || !request.userId || !request.greeting) {
      throw invalidInput(
        `Cannot send this verification mail: ${keyProblem ?? 'it needs a userId, a greeting and an ISO expiresAt'}.`,
        { to: request.to, key: request.key },
      );
    }
    const code = verificationCode(await loadSecret(), request.key);
    return deps.sendEmail({
      key: request.key,
      to: request.to,
      toName: request.toName,
      ...verificationMailFor(request.userId, request.greeting, code, expiresAt),
    });
  }

  async function checkVerificationCode(check: VerificationCheck): Promise<boolean> {
    const keyProblem = effectKeyProblem(check.key);
    if (keyProblem) throw invalidInput(`Cannot check this code: ${keyProblem}.`, { key: check.key });
    return codeMatches(await loadSecret(), check.key, check.code);
  }

  return { sendVerificationCode, checkVerificationCode };
}
