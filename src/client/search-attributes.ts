import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { allSearchAttributes } from '../core/search-attributes';

/**
 * Registers the project's search attributes on the namespace when missing (dev server or a
 * real cluster alike), so workflows can set them and the Web UI can filter by them.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = allSearchAttributes.filter((key) => !(key.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
  });
  // Visibility picks new attributes up asynchronously; wait until they are listed.
  for (let i = 0; i < 50; i++) {
    const now = await connection.operatorService.listSearchAttributes({ namespace });
    if (missing.every((key) => key.name in (now.customAttributes ?? {}))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
