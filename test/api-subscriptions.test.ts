/**
 * Subscriptions are configuration: the project's pipelines/subscriptions.yaml is valid against
 * the example pipelines and the flows the router starts, and a broken file is refused with every
 * problem, its place and the fix.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { subscribableFlows } from '../src/client/flow-subscribers';
import { loadPipelineCatalog } from '../src/pipelines/catalog';
import { loadSubscriptions, subscriptionsFile } from '../src/pipelines/subscriptions';

describe('subscriptions', () => {
  const catalog = loadPipelineCatalog();

  it('pipelines/subscriptions.yaml names example pipelines, flows and inboxes under the data folder', () => {
    const subscriptions = loadSubscriptions(subscriptionsFile, catalog, '/data', subscribableFlows);
    assert.deepEqual(subscriptions.topics.signups.pipelines, ['signup-notify']);
    assert.deepEqual(subscriptions.topics.signups.flows, ['signup']);
    assert.deepEqual(subscriptions.topics.videos.flows, ['transcode']);
    assert.deepEqual(subscriptions.topics.images.pipelines, ['image-tagging']);
    assert.deepEqual(subscriptions.inboxes, [
      { folder: '/data/inbox/uploads', topic: 'uploads' },
      { folder: '/data/inbox/videos', topic: 'videos' },
      { folder: '/data/inbox/images', topic: 'images' },
    ]);
    for (const topic of Object.values(subscriptions.topics))
      assert.ok(topic.description, 'every topic says what it is');
    for (const entry of catalog.values()) assert.ok(entry.description, `${entry.file} has a description`);
  });

  it('refuses a broken file, naming each problem and the fix', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-subscriptions-'));
    const file = path.join(dir, 'subscriptions.yaml');
    fs.writeFileSync(
      file,
      [
        'topics:',
        '  signups: { pipelines: [signup-notfy, signup-notify, signup-notify] }',
        '  "bad topic": { pipeline: [x] }',
        '  videos: { flows: [transcod, signup-notify], pipelines: [signup] }',
        'inboxes:',
        '  - { folder: ../outside, topic: signup }',
        'extra: 1',
      ].join('\n'),
    );
    try {
      assert.throws(
        () => loadSubscriptions(file, catalog, dir, subscribableFlows),
        (error: Error) => {
          const lines = error.message.split('\n');
          assert.equal(lines[0], `Subscriptions ${file} are invalid:`);
          assert.deepEqual(
            lines.slice(1).map((l) => l.replace(/ (Pipelines are|Flows are|Allowed): .*/, '')),
            [
              '  - extra: unknown property.',
              '  - topics.signups.pipelines[0]: unknown pipeline "signup-notfy"; did you mean "signup-notify"?',
              '  - topics.signups.pipelines[2]: "signup-notify" is listed twice; list it once',
              '  - topics.bad topic: a topic name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
              '  - topics.bad topic.pipeline: unknown property; did you mean "pipelines"?',
              `  - topics.bad topic: starts nothing: list pipelines: [...] (${[...catalog.keys()].join(', ')}) and/or flows: [...] (transcode, signup, transcode-upload)`,
              '  - topics.videos.pipelines[0]: "signup" is a flow, not a pipeline: list it under flows: [signup]',
              '  - topics.videos.flows[0]: unknown flow "transcod"; did you mean "transcode"?',
              '  - topics.videos.flows[1]: "signup-notify" is a pipeline, not a flow: list it under pipelines: [signup-notify]',
              '  - inboxes[0].folder: "../outside" must be a folder inside the data folder, e.g. inbox/uploads (no "..", not absolute)',
              '  - inboxes[0].topic: unknown topic "signup"; did you mean "signups"? Define it under topics first.',
            ],
          );
          return true;
        },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
