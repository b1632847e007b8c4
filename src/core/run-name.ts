/**
 * Default run names: a prefix plus the UTC time to the second, e.g. `demo-20261125-140236`. Used wherever a run
 * is started without a name (CLI flows, `start`, `run`, the API).
 */
export function timestampedRunName(prefix: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${prefix}-${stamp}`;
}

/** A run name given on a command line (`--run NAME`): letters, digits, ".", "_" or "-", as workflow IDs carry it. */
export function checkedRunName(name: string | undefined): string {
  if (name === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error('--run needs a name of letters, digits, ".", "_" or "-".');
  return name;
}
