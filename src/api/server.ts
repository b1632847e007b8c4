/**
 * The API's HTTP server (plain node:http): listens, serves the route table, closes cleanly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiContext } from './context';
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
): Promise<ApiServer> {
  const server = http.createServer(requestListener(ctx, apiRoutes, log));
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
