/**
 * Item values as text for shard keys and histogram bins, and counters keyed by such text. Item
 * data is untrusted: `{"toString": 1}` makes `String(value)` throw, and a key such as
 * `__proto__` or `constructor` reads or writes an object's prototype. Pure and deterministic
 * (workflow-safe).
 */
import { hasOwn } from './predicate';

/** `String(value)` where it works (so existing keys keep their shard and bin); JSON otherwise. */
export function itemText(value: unknown): string {
  try {
    return String(value);
  } catch {
    // An own toString/valueOf that is not a function: no primitive; its JSON is still stable.
    try {
      return JSON.stringify(value) ?? typeName(value);
    } catch {
      return typeName(value);
    }
  }
}

function typeName(value: unknown): string {
  return Array.isArray(value) ? '(array)' : `(${typeof value})`;
}

/** `counts[key] + n`, reading and writing only an own property, whatever the key. */
export function addCount(counts: Record<string, number>, key: string, n: number): void {
  const current = hasOwn(counts, key) ? counts[key] : 0;
  Object.defineProperty(counts, key, {
    value: (typeof current === 'number' ? current : 0) + n,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
