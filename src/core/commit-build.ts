/**
 * The CI merge flow's vocabulary: a commit to build (the data of a pipeline item whose id is the
 * commit's sha and whose origin is its repository's name) and the recorded result of its build.
 * Plain types only.
 */

/** A commit as the git source lists it. */
export interface CommitData {
  /** Absolute path of the repository (its top folder). */
  repo: string;
  sha: string;
  subject: string;
  author: string;
  /**
   * The ID (SHA-256) of a build command the operator's CLI registered (`--command`); absent: each
   * commit's own `.batch-ci` file. Items never carry a command itself (src/activities/ci-merge/operator-grants.ts).
   */
  commandId?: string;
}

/** A commit as the `build-commit` stage receives it. */
export interface CommitToBuild extends CommitData {
  /** The build is stopped and recorded as failed after this long (default 600, at most a day). */
  timeoutSeconds?: number;
}

export type BuildStatus = 'passed' | 'failed';

/** The result of building one commit, recorded once at `<buildsDir>/<sha>[-cmd-<hash>].json`. */
export interface BuildRecord {
  sha: string;
  /** The repository it was built from (its name: the item's origin). */
  repo: string;
  subject: string;
  /** The command that ran; empty when the commit had no `.batch-ci` and no `--command` was given. */
  command: string;
  status: BuildStatus;
  /** The command's exit code; null when it was killed (timeout) or never ran. */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The command's output (stdout and stderr, the last 1 MiB). */
  logPath: string;
  /** The pipeline run that built it (later runs reuse the record). */
  builtInRun: string;
}
