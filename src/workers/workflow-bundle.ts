import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { buildDir } from '../infra/paths';

/**
 * The workflows' entry beside this file: src/workflows/index.ts under tsx, dist/workflows/index.js
 * in the compiled build (`npm run build`), which the SDK bundles just the same.
 */
export const workflowsEntry = path.join(__dirname, '..', 'workflows', `index${path.extname(__filename)}`);
export const workflowBundlePath = path.join(buildDir, 'workflow-bundle.js');

/**
 * Bundles the workflow code once so that every worker process (and every restart of one after a
 * crash) starts in a second instead of re-running webpack.
 */
export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsEntry, logger: quietLogger });
  fs.mkdirSync(buildDir, { recursive: true });
  const tmp = `${workflowBundlePath}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, workflowBundlePath);
  return workflowBundlePath;
}

/** Webpack's chatter hidden; warnings and errors still shown. */
export const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
