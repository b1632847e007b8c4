/**
 * The API as its own process (`npm run api`, src/cli/api.ts), as an operator runs it: its own
 * data folder, a free port, output into a log file, against a Temporal address of the test's
 * choosing and task queues no worker serves (runs it starts just wait).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ManagedProcess, startTsProcess } from '../../src/infra/processes';
import { freePort, portOpen, waitFor } from '../../src/infra/wait';

export class ApiProcess {
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-api-process-'));
  readonly inputs = path.join(this.dataDir, 'inputs');
  readonly logFile = path.join(this.dataDir, 'api.log');
  port = 0;
  process?: ManagedProcess;

  constructor(
    private readonly temporalAddress: string,
    /** Extra environment, e.g. BATCH_API_TOKEN or BATCH_API_REQUEST_TIMEOUT_MS. */
    private readonly env: Record<string, string> = {},
  ) {
    fs.mkdirSync(this.inputs);
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const unique = `api-process-${process.pid}-${path.basename(this.dataDir)}`;
    this.process = startTsProcess('api', 'src/cli/api.ts', [], {
      output: this.logFile,
      exitWithParent: true,
      env: {
        ...process.env,
        BATCH_DATA_DIR: this.dataDir,
        TEMPORAL_ADDRESS: this.temporalAddress,
        BATCH_API_HOST: '127.0.0.1',
        BATCH_API_PORT: String(this.port),
        BATCH_API_METRICS_PORT: '0',
        BATCH_INPUT_ROOTS: [this.inputs, path.join(this.dataDir, 'inbox')].join(path.delimiter),
        BATCH_WORKFLOW_QUEUE: `${unique}-workflows`,
        BATCH_STAGE_QUEUE: `${unique}-stages`,
        BATCH_VIDEO_QUEUE: `${unique}-video`,
        BATCH_IMAGE_QUEUE: `${unique}-image`,
        BATCH_SIGNUP_QUEUE: `${unique}-signup`,
        ...this.env,
      },
    });
    await waitFor(
      `the API process on port ${this.port} (log: ${this.logFile})`,
      async () => {
        if (!this.alive) throw new Error(`The API process exited: ${this.log()}`);
        return portOpen(this.port);
      },
      60_000,
      200,
    );
    return this;
  }

  get alive(): boolean {
    return this.process?.running ?? false;
  }

  log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }

  cleanUp(): void {
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
