import { Client } from '@temporalio/client';
import { connectToTemporal } from '../client/connect';
import { loadConfig } from '../infra/config';

/** A client of TEMPORAL_ADDRESS (default: the embedded stack of npm start) for the length of `work`. */
export async function withTemporal<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const connection = await connectToTemporal(config);
  try {
    return await work(new Client({ connection, namespace: config.namespace }));
  } finally {
    await connection.close();
  }
}
