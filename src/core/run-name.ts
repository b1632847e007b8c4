/**
 * Default run names: a prefix plus the UTC time to the second, e.g. `demo-20261125-140236`. Used wherever a run
 * is started without a name (CLI flows, `start`, `run`, the API).
 */
export function timestampedRunName(prefix: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${prefix}-${stamp}`;
}
