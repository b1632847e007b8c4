import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ServerLimits } from '../../src/api/limits';
import { ApiServices, startApiServices } from '../../src/api/services';
import type { PipelineSpec } from '../../src/pipelines/spec';
import type { BatchConfig } from '../../src/infra/config';
import { waitFor } from '../../src/infra/wait';
import { isolatedConfig } from './config';

/** The answer of one API request: status, parsed JSON body, headers. */
export interface Answer {
  status: number;
  body: any; // whatever the API answered: the tests read into it
  headers: Headers;
}

export interface CallOptions {
  /** A JSON body; `raw` sends text as is (bad JSON, huge bodies). */
  body?: unknown;
  raw?: string;
  /** The bearer token: default the right one; null sends none. */
  token?: string | null;
}

export interface TestApiOptions {
  /** How long an inbox file must stay unchanged (default 300 ms). */
  inboxSettleMs?: number;
  /** The configuration to start from (default: isolatedConfig), e.g. signupConfig for a mail catcher. */
  config?: BatchConfig;
  /** Connection limits and timeouts (default: src/api/limits.ts). */
  limits?: ServerLimits;
}

/**
 * The API as `npm start` runs it (startApiServices: catalog, subscriptions, router, HTTP server,
 * inbox watchers), on a free port with its own data folder, test pipelines named `<prefix>-…`
 * (so suites on the shared dev server never share workflow IDs) and task queues of its own.
 * Besides the pipelines' topics, `videos` starts the transcode flow (inbox `inbox/videos`) and
 * `new-users` the audit pipeline and the sign-up flow.
 */
export class TestApi {
  readonly config: BatchConfig;
  readonly token = 'test-token-123';
  readonly dataDir: string;
  /** The only input root; `outside` is next to it. */
  readonly inputs: string;
  readonly outside: string;
  readonly inbox: string;
  /** The inbox whose files the transcode flow takes. */
  readonly videoInbox: string;
  readonly pipelines: { greet: string; audit: string; flaky: string };
  services?: ApiServices;

  private readonly inboxSettleMs: number;
  private readonly limits?: ServerLimits;

  constructor(
    private readonly env: TestWorkflowEnvironment,
    prefix: string,
    options: TestApiOptions = {},
  ) {
    const base = options.config ?? isolatedConfig(env.address);
    this.inboxSettleMs = options.inboxSettleMs ?? 300;
    this.limits = options.limits;
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `batch-${prefix}-`));
    this.inputs = path.join(this.dataDir, 'inputs');
    this.outside = path.join(this.dataDir, 'outside');
    this.inbox = path.join(this.dataDir, 'inbox', 'drop');
    this.videoInbox = path.join(this.dataDir, 'inbox', 'videos');
    fs.mkdirSync(this.inputs);
    fs.mkdirSync(this.outside);
    // As by default (.data/inputs, .data/inbox): inbox files are inputs like any other.
    const inputRoots = [this.inputs, path.join(this.dataDir, 'inbox')];
    this.config = { ...base, api: { host: '127.0.0.1', port: 0, token: this.token, inputRoots } };
    this.pipelines = { greet: `${prefix}-greet`, audit: `${prefix}-audit`, flaky: `${prefix}-flaky` };
    this.writeCatalog();
  }

  private writeCatalog(): void {
    const { greet, audit, flaky } = this.pipelines;
    const specs: PipelineSpec[] = [
      {
        name: greet,
        description: 'Greets every item and sums its bytes',
        start: 'hello',
        stages: {
          hello: { kind: 'activity', activity: 'annotate', next: 'count' },
          count: { kind: 'reduce', sum: ['bytes'] },
        },
      },
      {
        name: audit,
        description: 'Records every item',
        start: 'log',
        stages: { log: { kind: 'activity', activity: 'annotate' } },
      },
      {
        name: flaky,
        description: 'Delivers items; data.fail = "invalid" makes one a dead letter',
        start: 'prepare',
        stages: {
          prepare: { kind: 'activity', activity: 'annotate', next: 'deliver' },
          deliver: { kind: 'activity', activity: 'fail-when', retry: { maximumAttempts: 1 } },
        },
      },
    ];
    fs.mkdirSync(this.pipelinesDir);
    for (const spec of specs) fs.writeFileSync(path.join(this.pipelinesDir, `${spec.name}.json`), JSON.stringify(spec));
    fs.writeFileSync(
      this.subscriptionsFile,
      [
        'topics:',
        `  signups: { description: A user signed up, pipelines: [${greet}, ${audit}] }`,
        `  uploads: { pipelines: [${greet}] }`,
        '  videos: { flows: [transcode] }',
        `  new-users: { pipelines: [${audit}], flows: [signup] }`,
        'inboxes:',
        '  - { folder: inbox/drop, topic: uploads }',
        '  - { folder: inbox/videos, topic: videos }',
      ].join('\n'),
    );
  }

  get pipelinesDir(): string {
    return path.join(this.dataDir, 'pipelines');
  }

  get subscriptionsFile(): string {
    return path.join(this.dataDir, 'subscriptions.yaml');
  }

  get url(): string {
    if (!this.services) throw new Error('TestApi not started');
    return this.services.url;
  }

  async start(): Promise<this> {
    this.services = await startApiServices({
      client: this.env.client,
      config: this.config,
      dataDir: this.dataDir,
      log: () => undefined,
      pipelinesDir: this.pipelinesDir,
      subscriptions: this.subscriptionsFile,
      inboxSettleMs: this.inboxSettleMs,
      limits: this.limits,
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.services?.stop();
    this.services = undefined;
  }

  async call(method: string, urlPath: string, options: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`${this.url}${urlPath}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }

  /** Polls a run's status until it is no longer RUNNING; its last answer. */
  async finished(statusPath: string): Promise<Answer> {
    let last: Answer | undefined;
    await waitFor(
      `${statusPath} to finish`,
      async () => {
        last = await this.call('GET', statusPath);
        return last.status !== 200 || last.body.status !== 'RUNNING';
      },
      60_000,
      200,
    );
    return last!;
  }

  cleanUp(): void {
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
