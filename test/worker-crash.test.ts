/**
 * Worker failure: the worker process is killed with SIGKILL in the middle of a batch and a new
 * one is started. Temporal retries what the dead worker held (heartbeat timeout); the run
 * completes and every item has exactly one set of outputs, with no partial files left.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startThumbnailerRun, thumbnailerOutputDir } from '../src/client/thumbnailer';
import { repoRoot } from '../src/infra/paths';
import { sleep, waitFor } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { collect, ListSource } from '../src/sources';
import { withLiveProgress } from '../src/client/pipeline-run';
import { pipelineProgressQuery as progressQuery, type PipelineProgress } from '../src/workflows/pipeline';
import { isolatedConfig } from './support/config';
import { listFiles, sampleVideos } from './support/media';
import { sharedDevServer } from './support/servers';

describe('worker killed mid-batch', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('completes the run after a SIGKILL and a restart, with exactly one set of outputs per item', async () => {
    const config = isolatedConfig(env.address);
    const runName = `crash-${Date.now()}`;
    const outputDir = thumbnailerOutputDir(runName);
    const logDir = path.join(repoRoot, 'test-output', 'worker-crash-logs');
    const bundle = await buildWorkflowBundle();
    const videos = await sampleVideos();
    // Each video twice under different IDs: a longer batch, so the kill lands mid-way.
    const items = (await collect(new ListSource(videos))).flatMap((item) => [item, { ...item, id: `${item.id}-copy` }]);

    const first = await startWorkerProcess({
      name: 'worker A',
      config,
      workflowBundlePath: bundle,
      logFile: path.join(logDir, 'a.log'),
    });
    const handle = await startThumbnailerRun(env.client, config, {
      runName,
      items,
      concurrency: 2,
    });
    const live = withLiveProgress(env.client, handle);
    let before = await live.query<PipelineProgress>(progressQuery);
    await waitFor(
      'the first items to finish',
      async () => {
        before = await live.query<PipelineProgress>(progressQuery);
        return before.done >= 2 && before.running > 0;
      },
      120_000,
      100,
    );
    first.kill();
    await first.exited;
    assert.ok(before.done < items.length, 'killed before the batch was done');

    await sleep(1000);
    await startWorkerProcess({
      name: 'worker B',
      config,
      workflowBundlePath: bundle,
      logFile: path.join(logDir, 'b.log'),
    });
    const result = await handle.result();

    assert.equal(result.completed, items.length, JSON.stringify(result.deadLetters));
    assert.equal(result.results?.counts.completed, items.length, 'one completed line per item');
    // The run's own cache (.cache/: identical videos are worked on once) is not an item's output.
    const files = listFiles(outputDir).filter((f) => !f.startsWith('.cache/'));
    for (const item of items) {
      // frame.json: only beside a frame ffmpeg made (not one copied from the run's cache).
      const own = files.filter((f) => f.startsWith(`${item.id}/`) && f !== `${item.id}/frame.json`);
      assert.deepEqual(own, [`${item.id}/frame.png`, `${item.id}/thumb-320.jpg`, `${item.id}/thumb-640.webp`]);
    }
    assert.deepEqual(
      files.filter((f) => !items.some((i) => f.startsWith(`${i.id}/`))),
      ['contact-sheet-001.jpg'],
    );
  });
});
