/**
 * "Did you mean ...?" hints for names that are probably typos of known ones (spec properties, stage
 * and pipeline names, config keys, topics). Workflow code uses it (through the spec validator), so
 * it is pure and deterministic: plain TypeScript, no Node built-ins, no clock, no randomness, no I/O.
 */

/** Edit distance with adjacent transpositions (optimal string alignment): `emial` is 1 away from `email`. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}

const maxHintLength = 200;

/**
 * The candidate `name` most likely is a typo of (case-insensitive; at most a third of its letters
 * off, at least one), or undefined. Ties go to the earlier candidate, so the answer is deterministic.
 */
export function closestMatch(name: string, candidates: readonly string[]): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  // The distance takes length² steps and memory: names this long get no hint (they are no typos anyway).
  if (name.length > maxHintLength) return undefined;
  for (const candidate of candidates) {
    if (candidate === name || candidate.length > maxHintLength) continue;
    const distance = editDistance(wanted, candidate.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean "x"?` when a close candidate exists, else `.`: followed by a sentence listing the candidates. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const match = closestMatch(name, candidates);
  return match === undefined ? '.' : `; did you mean "${match}"?`;
}
