import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { status } from '@grpc/grpc-js';
import { allSearchAttributes } from '../core/search-attributes';

type SearchAttributeKeys = typeof allSearchAttributes;

async function listed(connection: Connection, namespace: string): Promise<Set<string> | undefined> {
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    return new Set(Object.keys(response.customAttributes ?? {}));
  } catch (error) {
    // The Java time-skipping test server can add search attributes but not list them.
    if ((error as { code?: number }).code === status.UNIMPLEMENTED) return undefined;
    throw error;
  }
}

async function add(connection: Connection, namespace: string, keys: SearchAttributeKeys): Promise<void> {
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      keys.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
}

/**
 * Registers the project's search attributes on the namespace when missing (dev server, test
 * server or a real cluster alike), so workflows can set them and the Web UI can filter by them.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await listed(connection, namespace);
  if (existing === undefined) return add(connection, namespace, allSearchAttributes);
  const missing = allSearchAttributes.filter((key) => !existing.has(key.name));
  if (missing.length === 0) return;
  await add(connection, namespace, missing);
  // Visibility picks new attributes up asynchronously; wait until they are listed.
  for (let i = 0; i < 50; i++) {
    const now = await listed(connection, namespace);
    if (missing.every((key) => now?.has(key.name))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `Search attributes ${missing.map((k) => k.name).join(', ')} were added but never listed by the server.`,
  );
}
