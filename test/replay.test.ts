/**
 * Determinism guard: histories recorded from earlier versions of the workflows (by
 * scripts/record-histories.ts) must replay against the current code. A failure here means a
 * change would break workflows that are running now: version it with `patched()` instead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { repoRoot } from '../src/infra/paths';
import { sharedWorkflowBundle } from './support/servers';

const historiesDir = path.join(repoRoot, 'test', 'histories');
/** The recorder's map of history file → original workflow ID (child IDs derive from it). */
const workflowIds = JSON.parse(fs.readFileSync(path.join(historiesDir, 'workflow-ids.json'), 'utf8')) as Record<
  string,
  string
>;
const files = Object.keys(workflowIds);

describe('replay of recorded histories', () => {
  it('has recorded histories of every workflow scenario', () => {
    assert.ok(files.length >= 3, `expected recorded histories in ${historiesDir}`);
    for (const file of files) assert.ok(fs.existsSync(path.join(historiesDir, file)), `${file} exists`);
    for (const workflow of ['thumbnailer', 'pipeline-patterns', 'pipeline-join-race', 'pipeline-run-join']) {
      assert.ok(
        files.some((f) => f.startsWith(workflow)),
        `a history of ${workflow}`,
      );
    }
  });

  for (const file of files) {
    it(`replays ${file} without nondeterminism`, async () => {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await sharedWorkflowBundle() }, history, workflowIds[file]);
    });
  }
});
