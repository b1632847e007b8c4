/**
 * The local mail catcher of the embedded stack and the tests: maildev 2.2.1 (an npm dependency)
 * as a child process. It accepts every mail over SMTP and keeps it in memory, with a web UI and a
 * REST API (`GET /email`) on a second port; nothing leaves the machine.
 */
import path from 'node:path';
import { ManagedProcess, startProcess } from '../infra/processes';
import { repoRoot } from '../infra/paths';
import { portOpen, waitFor } from '../infra/wait';

export interface MailCatcherOptions {
  smtpPort: number;
  webPort: number;
  logFile: string;
}

export interface MailCatcher {
  process: ManagedProcess;
  smtpPort: number;
  /** The web UI and REST API, e.g. http://localhost:1080. */
  webUrl: string;
  stop(): Promise<void>;
}

const maildevBin = path.join(repoRoot, 'node_modules', 'maildev', 'bin', 'maildev');

export async function startMailCatcher(options: MailCatcherOptions): Promise<MailCatcher> {
  for (const [port, variable] of [
    [options.smtpPort, 'BATCH_SMTP_PORT'],
    [options.webPort, 'BATCH_MAIL_UI_PORT'],
  ] as const) {
    if (await portOpen(port)) {
      throw new Error(
        `Port ${port} is already in use, so the mail catcher cannot start. If an SMTP server runs there, ` +
          `use it (BATCH_SMTP_HOST=127.0.0.1 BATCH_SMTP_PORT=${options.smtpPort}); otherwise pick a free port with ${variable}.`,
      );
    }
  }
  const catcher = startProcess(
    'mail catcher',
    process.execPath,
    [maildevBin, '--smtp', String(options.smtpPort), '--web', String(options.webPort), '--ip', '127.0.0.1'],
    { output: options.logFile },
  );
  try {
    await waitFor(
      `the mail catcher on ports ${options.smtpPort} (SMTP) and ${options.webPort} (web) (log: ${options.logFile})`,
      async () => {
        if (!catcher.running) throw new Error(`The mail catcher exited early; see ${options.logFile}.`);
        return (await portOpen(options.smtpPort)) && (await portOpen(options.webPort));
      },
      30_000,
    );
  } catch (error) {
    await catcher.stop();
    throw error;
  }
  return {
    process: catcher,
    smtpPort: options.smtpPort,
    webUrl: `http://localhost:${options.webPort}`,
    stop: () => catcher.stop(),
  };
}
