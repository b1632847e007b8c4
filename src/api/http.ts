/**
 * HTTP plumbing of the API on plain node:http: errors a client can act on, bodies read within a
 * size limit and parsed as JSON, JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Largest request body accepted. Temporal caps one payload at 2 MB and inline items travel in the
 * run's input, so bigger batches go as a source path (a folder or an items file), not inline.
 */
export const maxBodyBytes = 1024 * 1024;

/** A request the API refuses: its HTTP status, a short kind and a message saying what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    /** Extra response headers, e.g. `WWW-Authenticate` or `Allow`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The body every error answer has. */
export interface ErrorBody {
  error: string;
  message: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Deepest nesting of arrays and objects a body may have: deeper JSON would overflow the stack later. */
export const maxBodyDepth = 64;

/** How deep `value` nests arrays and objects (iteratively: the value may be deeper than the stack). */
export function nestingDepth(value: unknown, stopAt = Infinity): number {
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

/** A client that went away mid-request: nobody is left to answer. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
}

/**
 * The body as text, refused (with `tooLarge()`) as soon as it passes `limit` bytes. Not an async
 * iterator: leaving one early destroys the request, and the connection with it, before the answer.
 */
function readText(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle(() => reject(tooLarge()));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks).toString('utf8')));
    const onGone = () => settle(() => reject(new ClientGoneError('The client closed the connection mid-request.')));
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
  });
}

/**
 * The request body parsed as JSON, or `undefined` when there is none. Over `maxBodyBytes` it is a
 * 413 at once, reading no further (the caller closes the connection after the answer).
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const tooLarge = () =>
    new ApiError(
      413,
      'PayloadTooLarge',
      `The request body is larger than ${maxBodyBytes} bytes. Send large batches as a source instead: {"source": {"path": "<folder or .jsonl file under an input root>"}}.`,
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) throw tooLarge();
  const text = await readText(req, maxBodyBytes, tooLarge);
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
