/**
 * Fault injection for the crash tests, off unless BATCH_FAULT_PAUSE names a point: an activity
 * that reaches that point logs `fault point <name> reached` and holds there (still heartbeating)
 * until its worker is killed, so a test can kill a worker at exactly the worst moment.
 */
import { log } from '@temporalio/activity';

export async function faultPoint(name: string): Promise<void> {
  if (process.env.BATCH_FAULT_PAUSE !== name) return;
  log.warn(`fault point ${name} reached; holding until this worker is killed (BATCH_FAULT_PAUSE)`);
  await new Promise<never>(() => undefined);
}
