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
import { repoRoot } from '../src/runtime/paths';
import { sharedWorkflowBundle } from './support/servers';

const historiesDir = path.join(repoRoot, 'test', 'histories');
const files = fs.readdirSync(historiesDir).filter((f) => f.endsWith('.json'));

describe('replay of recorded histories', () => {
  it('has recorded histories of every workflow scenario', () => {
    assert.ok(files.length >= 3, `expected recorded histories in ${historiesDir}`);
  });

  for (const file of files) {
    it(`replays ${file} without nondeterminism`, async () => {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await sharedWorkflowBundle() }, history, file);
    });
  }
});
