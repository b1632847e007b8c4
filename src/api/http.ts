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

/**
 * The request body parsed as JSON, or `undefined` when there is none. Over `maxBodyBytes` it is a
 * 413, read to its end but not kept (so the client gets the answer instead of a reset connection).
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const tooLarge = () =>
    new ApiError(
      413,
      'PayloadTooLarge',
      `The request body is larger than ${maxBodyBytes} bytes. Send large batches as a source instead: {"source": {"path": "<folder or .jsonl file under an input root>"}}.`,
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) over = true;
    else chunks.push(chunk);
  }
  if (over) throw tooLarge();
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, 'BadJson', `The request body is not valid JSON (${reason}); send a JSON object.`);
  }
}
