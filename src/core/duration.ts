/**
 * Duration strings of pipeline specs and configuration ('500 ms', '5 minutes', '2h'), parsed as the
 * `ms` package that Temporal uses parses them. Workflow code imports this, so it is pure and
 * deterministic: plain TypeScript, no Node built-ins, no clock, no randomness, no I/O.
 */

const durationPattern =
  /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$/i;

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

function unitMs(unit: string): number {
  switch (unit) {
    case 'y':
    case 'yr':
    case 'yrs':
    case 'year':
    case 'years':
      return 365.25 * day;
    case 'w':
    case 'week':
    case 'weeks':
      return 7 * day;
    case 'd':
    case 'day':
    case 'days':
      return day;
    case 'h':
    case 'hr':
    case 'hrs':
    case 'hour':
    case 'hours':
      return hour;
    case 'm':
    case 'min':
    case 'mins':
    case 'minute':
    case 'minutes':
      return minute;
    case 's':
    case 'sec':
    case 'secs':
    case 'second':
    case 'seconds':
      return second;
    default:
      return 1; // ms, msec, msecs, millisecond, milliseconds
  }
}

/**
 * Milliseconds of a duration string, with the grammar of the `ms` package that Temporal uses for
 * durations ('500 ms', '1 second', '2 seconds', '5 minutes', '2 hours', '3 days', '10s', '2h', '1.5h',
 * plain '250' = milliseconds; units case-insensitive; no surrounding spaces), or undefined when
 * `ms` would not parse it either. Negative values parse (as in `ms`); validators reject them.
 */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 100) return undefined;
  const match = durationPattern.exec(text);
  if (!match) return undefined;
  return parseFloat(match[1]) * unitMs((match[2] ?? 'ms').toLowerCase());
}
