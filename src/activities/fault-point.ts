/**
 * Fault injection for the crash tests, off unless BATCH_FAULT_PAUSE names a point: an activity
 * that reaches that point prints `fault point <name> reached` and holds there (still heartbeating)
 * until its worker is killed, so a test can kill a worker at exactly the worst moment.
 */
export async function faultPoint(name: string): Promise<void> {
  if (process.env.BATCH_FAULT_PAUSE !== name) return;
  console.log(`fault point ${name} reached; holding until this worker is killed`);
  await new Promise<never>(() => undefined);
}
