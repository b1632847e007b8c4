/**
 * A stable hash for sharding: FNV-1a over the UTF-16 code units of the key. Pure and
 * deterministic (workflow-safe), identical on every worker and every replay.
 */
export function stableHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
