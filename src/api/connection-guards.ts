/**
 * What the API does with connections that misbehave, below fastify's routing (on its node
 * server): malformed HTTP gets a JSON 400 (408, 431) before the connection is closed (fastify's
 * `clientErrorHandler`), an unsupported Expect header a JSON 417, and a body refused before it
 * was read is thrown away only up to a bound, so a client cannot keep a connection busy by
 * sending a body nobody wants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { ErrorBody } from './errors';
import type { ServerLimits } from './limits';

const reasons: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Header Too Large' };

function clientErrorAnswer(error: NodeJS.ErrnoException): { status: number; body: ErrorBody } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        body: {
          error: 'HeadersTooLarge',
          message: 'The request headers are too large; send fewer or shorter headers.',
        },
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return {
        status: 408,
        body: {
          error: 'RequestTimeout',
          message: 'The request did not arrive in time; send the whole request at once, then try again.',
        },
      };
    default: {
      const reason = (error as { reason?: string }).reason ?? error.message;
      return {
        status: 400,
        body: {
          error: 'MalformedRequest',
          message: `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'}: ${reason}); send e.g. "GET /openapi.json HTTP/1.1" with a Host header.`,
        },
      };
    }
  }
}

/**
 * The server's `clientError` handler: HTTP the parser refuses (a bad request line or header, too
 * large headers, a timeout) is answered with a JSON error and the connection closed. Never throws.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  try {
    const pending = (socket as { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) return void socket.destroy();
    const { status, body } = clientErrorAnswer(error);
    const text = `${JSON.stringify(body, null, 2)}\n`;
    const head = [
      `HTTP/1.1 ${status} ${reasons[status]}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(text)}`,
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
    // The answer is written; whatever the client still sends is not read.
    setTimeout(() => socket.destroy(), 1000).unref();
  } catch {
    socket.destroy();
  }
}

/**
 * For an answer given before the request body was read (or all of it): says `Connection: close`
 * and, once the answer is written, reads and drops at most `drainBytes` for at most `drainMs`
 * (so the client, still sending, gets to read the answer), then closes the connection.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, limits: ServerLimits): void {
  const socket = req.socket as Socket;
  res.setHeader('Connection', 'close');
  req.resume(); // drop what arrives; node pauses the socket while an unread request buffers
  const readBefore = socket.bytesRead;
  const overBudget = () => socket.bytesRead - readBefore > limits.drainBytes;
  const check = () => {
    if (overBudget()) socket.destroy();
  };
  socket.on('data', check);
  // Destroy once the answer is flushed: destroying earlier would drop it.
  const closeWhenWritten = () =>
    socket.writableFinished ? socket.destroy() : socket.once('finish', () => socket.destroy());
  // Node closes a `Connection: close` socket with destroySoon() once the answer is handed over:
  // half-close instead, keep dropping within the bounds, then destroy.
  socket.destroySoon = () => {
    socket.end();
    if (req.complete) return void closeWhenWritten();
    const timer = setTimeout(() => socket.destroy(), limits.drainMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    req.once('end', closeWhenWritten);
    check();
  };
}

/**
 * The server's `checkExpectation` handler: an Expect header other than 100-continue (node would
 * answer 417 with no body) gets a JSON 417, and the body is not read.
 */
export function answerExpectation(limits: ServerLimits) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    try {
      closeAfterAnswer(req, res, limits);
      const body: ErrorBody = {
        error: 'ExpectationFailed',
        message: `Expect: ${req.headers.expect} is not supported; send no Expect header (or Expect: 100-continue).`,
      };
      const text = `${JSON.stringify(body, null, 2)}\n`;
      res.writeHead(417, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    } catch {
      res.destroy();
    }
  };
}
