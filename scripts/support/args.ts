/** Command-line options of the scripts: `--name value`, read from process.argv. */

/** The text after `name`, or undefined when the option is not given. */
export function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/**
 * The number after `name` (underscores allowed: 10_000), or `fallback`. `whole`: a whole number
 * from 0 up; otherwise any number above 0.
 */
export function numberArg(name: string, fallback: number, kind: 'whole' | 'positive' = 'whole'): number {
  const text = stringArg(name);
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, ''));
  const fits = kind === 'whole' ? Number.isInteger(n) && n >= 0 : Number.isFinite(n) && n > 0;
  if (!fits) throw new Error(`${name} needs a ${kind === 'whole' ? 'whole' : 'positive'} number, not ${text}`);
  return n;
}

/** A log line prefixed with the script's name and the time of day (UTC). */
export function scriptLog(name: string): (line: string) => void {
  return (line) => console.log(`[${name} ${new Date().toISOString().slice(11, 19)}] ${line}`);
}
