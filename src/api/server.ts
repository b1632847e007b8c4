/**
 * The API's HTTP server: the fastify application of src/api/app.ts, listening, and closed
 * cleanly (open connections too). A taken port stops start-up with its fix.
 */
import type { AddressInfo } from 'node:net';
import { buildApiApp } from './app';
import type { ApiContext } from './context';
import { defaultServerLimits, type ServerLimits } from './limits';

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
  const app = await buildApiApp(ctx, log, limits);
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new Error(
        `Port ${listen.port} on ${listen.host} is taken; stop what uses it or set BATCH_API_PORT to a free port.`,
      );
    throw error;
  }
  const { address, port } = app.server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
