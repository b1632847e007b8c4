/**
 * A client connection for the command-line entry points (cli, api): to TEMPORAL_ADDRESS, or to
 * the embedded stack that `npm start` keeps up. A server that does not answer is reported with
 * what to do, instead of a gRPC error.
 */
import { Connection } from '@temporalio/client';
import { BatchConfig, frontendAddress } from '../infra/config';

export async function connectToTemporal(config: BatchConfig): Promise<Connection> {
  const address = frontendAddress(config);
  return Connection.connect({ address, connectTimeout: '5 seconds' }).catch(() => {
    throw new Error(
      `No Temporal server answers at ${address}. Start the embedded stack with \`npm start\` (it stays up) in another terminal, or set TEMPORAL_ADDRESS.`,
    );
  });
}
