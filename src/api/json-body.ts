/**
 * The API's body parser (fastify reads the body within `bodyLimit`, then hands the text here):
 * JSON whatever the Content-Type says, an empty body as none, and a 400 saying what to fix for
 * text that is not JSON or nests deeper than the handlers can walk.
 */
import { ApiError } from './errors';

/** Deepest nesting of arrays and objects a body may have: deeper JSON would overflow the stack later. */
export const maxBodyDepth = 64;

/** How deep `value` nests arrays and objects (iteratively: the value may be deeper than the stack). */
function nestingDepth(value: unknown, stopAt: number): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > stopAt) break;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * The body text as JSON, or `undefined` when there is none. JSON.parse keeps `__proto__` as an
 * own key (no prototype is touched), so the schema check names it as an unknown property.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, 'BadJson', `The request body is not valid JSON (${reason}); send a JSON object.`);
  }
  if (nestingDepth(body, maxBodyDepth) > maxBodyDepth)
    throw new ApiError(
      400,
      'BadJson',
      `The request body nests arrays and objects more than ${maxBodyDepth} levels deep; send flatter data.`,
    );
  return body;
}
