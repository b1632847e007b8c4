/**
 * HTTP/1.1 over a raw TCP socket, for requests no HTTP client would send (bad request lines,
 * lying Content-Length, garbage headers): writes bytes as given and reads back one answer.
 */
import net from 'node:net';

export interface RawAnswer {
  /** Undefined: the connection ended before a whole status line and headers came back. */
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent. */
  raw: string;
  /** How the exchange ended: a whole answer read, the server closed or reset, or no answer in time. */
  ending: 'answered' | 'closed' | 'reset' | 'timeout';
}

export interface RawRequest {
  method: string;
  target: string;
  headers?: [string, string][];
  body?: string | Buffer;
  /** Content-Length to declare instead of the body's length (a lie); null: send none. */
  contentLength?: number | null;
}

/** The bytes of a request: request line, Host, the headers, Content-Length (or the lie), body. */
export function requestBytes(request: RawRequest): Buffer {
  const body = Buffer.from(request.body ?? '');
  const lines = [`${request.method} ${request.target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`);
  const length = request.contentLength === undefined ? body.length : request.contentLength;
  if (length !== null && (body.length > 0 || request.contentLength !== undefined))
    lines.push(`Content-Length: ${length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** Parses what has arrived; `complete` once the headers and Content-Length bytes of body are in. */
function parse(data: Buffer, head: boolean): { answer: Omit<RawAnswer, 'ending' | 'raw'>; complete: boolean } {
  const text = data.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { answer: { headers: {}, body: '' }, complete: false };
  const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
  const status = Number(statusLine.match(/^HTTP\/1\.[01] (\d{3})/)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const bodyBytes = data.subarray(Buffer.byteLength(text.slice(0, end + 4)));
  const length = head ? 0 : Number(headers['content-length'] ?? NaN);
  const complete = Number.isFinite(length) && bodyBytes.length >= length;
  const body = bodyBytes.subarray(0, Number.isFinite(length) ? length : undefined).toString('utf8');
  return { answer: { status: Number.isFinite(status) ? status : undefined, headers, body }, complete };
}

/**
 * Sends `bytes` (a request, or several) to 127.0.0.1:`port` and reads the first answer: done when
 * it is whole, the server ends the connection, or `timeoutMs` passes.
 */
export function rawExchange(
  port: number,
  bytes: Buffer | string,
  options: { head?: boolean; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (ending: RawAnswer['ending']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const { answer } = parse(data, options.head ?? false);
      resolve({ ...answer, raw: data.toString('utf8'), ending });
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 20_000);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (parse(data, options.head ?? false).complete) finish('answered');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the whole answer arrived still counts as answered.
      finish(
        parse(data, options.head ?? false).complete ? 'answered' : error.code === 'ECONNRESET' ? 'reset' : 'closed',
      );
    });
    socket.on('close', () => finish(parse(data, options.head ?? false).complete ? 'answered' : 'closed'));
    socket.on('connect', () => socket.write(bytes));
  });
}

export const rawRequest = (port: number, request: RawRequest, timeoutMs?: number) =>
  rawExchange(port, requestBytes(request), { head: request.method === 'HEAD', timeoutMs });
