/**
 * The API's HTTP server (plain node:http): listens, serves the route table, closes cleanly. It
 * holds at most `maxConnections` connections, drops requests that arrive too slowly, and answers
 * malformed HTTP with a JSON 400 instead of letting it near the process (src/api/limits.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientError, closeAfterAnswer } from './connection-guards';
import type { ApiContext } from './context';
import { sendJson } from './http';
import { defaultServerLimits, type ServerLimits } from './limits';
import { requestListener } from './router';
import { apiRoutes } from './routes';

export interface ApiServer {
  /** e.g. http://127.0.0.1:8088 */
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(
  ctx: ApiContext,
  listen: { host: string; port: number },
  log: (line: string) => void,
  limits: ServerLimits = defaultServerLimits,
): Promise<ApiServer> {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often the timeouts above are checked (default 30 s, which would stretch them).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      // The router refuses a missing Host itself, with a JSON answer (node's has no body).
      requireHostHeader: false,
    },
    requestListener(ctx, apiRoutes, log, limits),
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', answerClientError);
  // An Expect header other than 100-continue: node would answer 417 with no body.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      closeAfterAnswer(req, res, limits);
      sendJson(res, 417, {
        error: 'ExpectationFailed',
        message: `Expect: ${req.headers.expect} is not supported; send no Expect header (or Expect: 100-continue).`,
      });
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `Port ${listen.port} on ${listen.host} is taken; stop what uses it or set BATCH_API_PORT to a free port.`,
            )
          : error,
      ),
    );
    server.listen(listen.port, listen.host, resolve);
  });
  // After start-up, a server error (e.g. too many open files) is logged, never thrown.
  server.on('error', (error) => log(`server error: ${error.message}`));
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
