/**
 * `npm run api`: the HTTP API and the inbox watchers alone, against TEMPORAL_ADDRESS or the
 * embedded stack `npm start` keeps up (which already runs them, on BATCH_API_PORT). Workers must
 * be polling elsewhere (npm start, or `npm run worker`). Stays up until Ctrl-C.
 */
import { Client } from '@temporalio/client';
import { startApiServices } from '../api/services';
import { connectToTemporal } from '../client/connect';
import { loadConfig } from '../runtime/config';
import { dataDir } from '../runtime/paths';
import { apiTelemetry } from '../runtime/telemetry/api';

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  if (process.argv.length > 2) {
    console.log(
      'Usage: npm run api\n\nServes the HTTP API (docs/api.md) and the inbox watchers of pipelines/subscriptions.yaml.\nEnvironment: BATCH_API_PORT (8088), BATCH_API_METRICS_PORT (9463; 0: off), BATCH_API_HOST (127.0.0.1), BATCH_API_TOKEN (shown only on a terminal), BATCH_API_MAX_CONNECTIONS (256), BATCH_API_REQUEST_TIMEOUT_MS (30000), BATCH_INPUT_ROOTS, TEMPORAL_ADDRESS, BATCH_DATA_DIR.',
    );
    process.exit(process.argv[2] === '--help' || process.argv[2] === '-h' ? 0 : 1);
  }
  const telemetry = apiTelemetry();
  const config = loadConfig();
  const connection = await connectToTemporal(config);
  const client = new Client({ connection, namespace: config.namespace });
  const services = await startApiServices({ client, config, dataDir, log, meter: telemetry.meter });
  for (const line of services.usage) log(line);
  if (telemetry.metricsUrl) log(`API metrics: ${telemetry.metricsUrl} (docs/observability.md)`);
  log('Press Ctrl-C to stop.');
  const stop = async () => {
    await services.stop();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error) => {
  console.error(`[api] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
