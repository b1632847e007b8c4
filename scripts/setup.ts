/**
 * `npm run setup [-- --test]`: builds the tools `npm start` (and with --test, `npm test`) need.
 * Run automatically by both commands; safe to run again (cached in .tools/).
 */
import { ensureTools } from '../src/devstack/tools/setup';

async function main(): Promise<void> {
  const forTests = process.argv.includes('--test');
  const devServer = forTests || !process.env.TEMPORAL_ADDRESS;
  const started = Date.now();
  const tools = await ensureTools(
    { devServer, testServer: forTests, browser: forTests, cluster: forTests, s3: forTests, kafka: forTests },
    (line) => console.log(`[setup] ${line}`),
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `[setup] tools ready in ${seconds} s: ${Object.entries(tools)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
}

main().catch((error) => {
  console.error(`[setup] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
