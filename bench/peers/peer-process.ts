/** Starts one peer run (peer-run.ts) in a fresh Node process and returns what it measured. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../src/infra/paths';
import type { PeerResult, PeerTask } from './peer-run';

export function runPeer(task: PeerTask): Promise<PeerResult> {
  const entry = path.join(__dirname, 'peer-run.ts');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--require', 'tsx/cjs', entry, JSON.stringify(task)],
      { cwd: repoRoot, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`peer run ${task.kind} failed (${error.message.split('\n')[0]}):\n${stderr.slice(-3000)}`));
          return;
        }
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as PeerResult);
        } catch {
          reject(
            new Error(`peer run ${task.kind} printed no result line:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`),
          );
        }
      },
    );
  });
}
