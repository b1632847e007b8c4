import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ensureSearchAttributes } from '../../src/client/search-attributes';
import { allSearchAttributes } from '../../src/core/search-attributes';
import { devServerDynamicConfig } from '../../src/devstack/dev-server';
import { ensureTemporalCli } from '../../src/devstack/tools/temporal-cli';
import { ensureTestServer } from '../../src/devstack/tools/test-server';
import { quietLogger, workflowsEntry } from '../../src/workers/workflow-bundle';

/**
 * Shared test servers: one real dev server (Temporal CLI) for every integration test, torn down
 * by the root hook; time-skipping servers are per suite (their clock is global to the server).
 */
let devEnv: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const quiet = () => undefined;

export function sharedDevServer(): Promise<TestWorkflowEnvironment> {
  devEnv ??= ensureTemporalCli(quiet).then((path) =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path },
        searchAttributes: allSearchAttributes,
        log: { format: 'pretty', level: 'error' },
        extraArgs: devServerDynamicConfig,
      },
    }),
  );
  return devEnv;
}

export async function stopSharedDevServer(): Promise<void> {
  if (devEnv) await (await devEnv).teardown();
  devEnv = undefined;
}

export async function createTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const path = await ensureTestServer(quiet);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path } },
  });
  await ensureSearchAttributes(env.connection, 'default');
  return env;
}

/** The workflow code bundled once per test run (webpack takes seconds on this machine). */
export function sharedWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: workflowsEntry,
    logger: quietLogger,
  });
  return bundle;
}
