import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_INPUT } from '../../src/activities/errors';
import { generateSampleVideos } from '../../src/devstack/sample-videos';
import { repoRoot } from '../../src/infra/paths';

/** Sample videos made once per test run with ffmpeg's test sources, cached under test-output/. */
let samples: Promise<string[]> | undefined;
export function sampleVideos(): Promise<string[]> {
  samples ??= generateSampleVideos(path.join(repoRoot, 'test-output', 'samples'), () => undefined);
  return samples;
}

/** A fresh folder for one test's outputs, kept after the run for a person to look at. */
export function outputFolder(name: string): string {
  const dir = path.join(repoRoot, 'test-output', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Every file below `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The rejection of `promise`, asserted to be a non-retryable InvalidInput. */
export async function invalidInputOf(promise: Promise<unknown>, what: string): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `${what}: expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, INVALID_INPUT, `${what}: ${err.message}`);
    assert.equal(err.nonRetryable, true, what);
    return err;
  }
  assert.fail(`${what}: expected an InvalidInput failure, but it was accepted`);
}
