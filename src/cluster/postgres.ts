import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { findOnPath, isExecutableFile, runProgram } from '../infra/exec';
import { ManagedProcess, startProcess } from '../infra/processes';
import { waitFor } from '../infra/wait';
import { withDieWithParent } from '../infra/die-with-parent';

/**
 * The cluster's PostgreSQL: Debian's server binaries (PostgreSQL 15 here), a database cluster made
 * with initdb in a git-ignored folder, started on its own port with its unix socket inside its data
 * folder. PostgreSQL refuses to run as root; as root we run it as the unprivileged `postgres`
 * system user (setpriv, no shell, no PAM), otherwise as the current user.
 */
export interface PostgresOptions {
  /** Owns data/ (the database cluster) and the socket; must be reachable by the postgres user. */
  dir: string;
  port: number;
  logFile: string;
  /** Tests only: no fsync (a process crash loses nothing; only a machine crash would). */
  fast?: boolean;
}

export const dbUser = 'temporal';
export const dbPassword = 'temporal';

/** Folder of initdb/pg_ctl/postgres: `pg_config --bindir`, else the newest /usr/lib/postgresql/<n>/bin. */
export function postgresBinDir(): string {
  const pgConfig = findOnPath('pg_config');
  if (pgConfig) {
    const out = spawnSync(pgConfig, ['--bindir'], { encoding: 'utf8' });
    const dir = out.stdout?.trim();
    if (dir && isExecutableFile(path.join(dir, 'postgres'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => isExecutableFile(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length > 0) return path.join(root, versions[0], 'bin');
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) were not found: the local Temporal cluster stores its state in PostgreSQL.\n' +
      'Install them (Debian/Ubuntu: `apt-get install postgresql`), or use an existing cluster with TEMPORAL_ADDRESS=host:7233.',
  );
}

/** Major version of the PostgreSQL binaries (15 on these machines). */
export function postgresVersion(binDir = postgresBinDir()): string {
  const out = spawnSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
  return /(\d+)(\.\d+)?/.exec(out.stdout ?? '')?.[0] ?? 'unknown';
}

interface RunAs {
  /** Prefix that runs a program as the database user (empty when we are not root). */
  prefix: string[];
  uid: number;
  gid: number;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) return { prefix: [], uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout?.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) {
    throw new Error(
      'PostgreSQL refuses to run as root, and there is no `postgres` system user to run it as.\n' +
        "Install Debian's PostgreSQL (`apt-get install postgresql`, which creates the user) or run as an unprivileged user.",
    );
  }
  const setpriv = findOnPath('setpriv');
  if (!setpriv)
    throw new Error(
      'setpriv (util-linux) is needed to run PostgreSQL as the postgres user: apt-get install util-linux.',
    );
  // setpriv execs the program itself: the pid we hold is the postmaster's, so signals reach it.
  return { prefix: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'], uid, gid };
}

/** Every folder above `dir` must let the postgres user pass (mode o+x), or initdb cannot reach it. */
function checkReachable(dir: string, as: RunAs): void {
  if (process.getuid?.() !== 0) return;
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    const stat = fs.statSync(d);
    const passes =
      stat.uid === as.uid ? stat.mode & 0o100 : stat.gid === as.gid ? stat.mode & 0o010 : stat.mode & 0o001;
    if (!passes) {
      throw new Error(
        `The postgres user cannot reach ${dir}: ${d} is mode ${(stat.mode & 0o777).toString(8)}.\n` +
          'Put the cluster data in a folder every user may pass through (BATCH_DATA_DIR, default .data/ in the repository), ' +
          "not under root's home (mode 700).",
      );
    }
    if (d === path.dirname(d)) return;
  }
}

export class Postgres {
  private process?: ManagedProcess;
  private constructor(
    readonly options: PostgresOptions,
    private readonly binDir: string,
    private readonly as: RunAs,
  ) {}

  get dataDir(): string {
    return path.join(this.options.dir, 'data');
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  /** Settles when the server process running now exits. */
  get exited(): Promise<unknown> {
    return this.process?.exited ?? Promise.resolve();
  }

  /** initdb on the first start (the folder keeps every database afterwards), then starts the server. */
  static async start(options: PostgresOptions, log: (line: string) => void): Promise<Postgres> {
    const pg = new Postgres(options, postgresBinDir(), runAs());
    await pg.init(log);
    await pg.startServer();
    return pg;
  }

  private bin(name: string): string {
    return path.join(this.binDir, name);
  }

  private async init(log: (line: string) => void): Promise<void> {
    fs.mkdirSync(this.options.dir, { recursive: true });
    checkReachable(this.options.dir, this.as);
    if (this.as.prefix.length > 0) fs.chownSync(this.options.dir, this.as.uid, this.as.gid);
    if (fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) return;
    log(`Creating the PostgreSQL ${postgresVersion(this.binDir)} database cluster in ${this.dataDir}...`);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    const [program, ...prefixArgs] = [...this.as.prefix, this.bin('initdb')];
    // Trust on loopback and the socket only: the server listens on 127.0.0.1 and nothing else.
    await runProgram(
      program,
      [...prefixArgs, '-D', this.dataDir, '-U', dbUser, '--auth=trust', '-E', 'UTF8', '--locale=C'],
      { cwd: this.options.dir },
    );
  }

  private async startServer(): Promise<void> {
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(this.options.port),
      '-k',
      this.options.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=128MB',
      ...(this.options.fast ? ['-c', 'fsync=off', '-c', 'full_page_writes=off'] : []),
    ];
    // Fast shutdown (SIGINT) when we die, even by SIGKILL: no orphaned server keeps the port and data.
    // As root, in the same setpriv that switches users: a change of user clears the setting.
    const [wrapped, wrappedArgs] =
      this.as.prefix.length > 0
        ? [
            this.as.prefix[0],
            [...this.as.prefix.slice(1, -1), '--pdeathsig', 'INT', '--', this.bin('postgres'), ...args],
          ]
        : withDieWithParent('INT', this.bin('postgres'), args);
    const proc = startProcess('postgres', wrapped, wrappedArgs, { output: this.options.logFile });
    this.process = proc;
    await waitFor(
      `PostgreSQL on 127.0.0.1:${this.options.port} (log: ${this.options.logFile})`,
      async () => {
        if (!proc.running)
          throw new Error(`PostgreSQL exited early (${proc.exitDescription}); see ${this.options.logFile}.`);
        return this.ready();
      },
      60_000,
      200,
    );
  }

  /** True once the server accepts connections (not while it starts, recovers or shuts down). */
  async ready(): Promise<boolean> {
    const out = spawnSync(this.bin('pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(this.options.port)]);
    return out.status === 0;
  }

  /** Runs SQL through psql as the database owner; returns stdout (unaligned, tuples only). */
  async sql(database: string, statement: string): Promise<string> {
    const { stdout } = await runProgram(this.bin('psql'), [
      '-X',
      '-q',
      '-t',
      '-A',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      '127.0.0.1',
      '-p',
      String(this.options.port),
      '-U',
      dbUser,
      '-d',
      database,
      '-c',
      statement,
    ]);
    return stdout.trim();
  }

  async createDatabase(name: string): Promise<boolean> {
    const exists = await this.sql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`);
    if (exists === '1') return false;
    await this.sql('postgres', `CREATE DATABASE "${name}"`);
    return true;
  }

  /** Fast shutdown (SIGINT): open sessions are cut, a checkpoint is written, nothing is lost. */
  async stop(): Promise<void> {
    const proc = this.process;
    if (!proc?.running) return;
    proc.child.kill('SIGINT');
    const timer = setTimeout(() => proc.kill(), 30_000);
    await proc.exited;
    clearTimeout(timer);
  }

  /** Fast shutdown, then the same server again on the same port and data (fault tests). */
  async restart(): Promise<void> {
    await this.stop();
    await this.startServer();
  }
}
