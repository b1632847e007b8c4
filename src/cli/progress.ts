/**
 * The one progress rendering of every command (`run --wait`, `watch`, each flow, npm start's
 * thumbnailer): a line `[#####-----] done/total · detail · …`, and where it goes — on a terminal
 * one line rewritten in place, elsewhere (a log file, a pipe, a test) one line per change.
 */

/** A text progress bar, e.g. `[#########---------------]`. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total <= 0 ? width : Math.min(width, Math.round((done / total) * width));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** E.g. `[######------------------] 4/16 done · 3 in flight` (`unit` after the count: "done", or none). */
export function progressLine(done: number, total: number, details: string[], unit?: string): string {
  const count = `${done}/${total}${unit ? ` ${unit}` : ''}`;
  return `${progressBar(done, total)} ${[count, ...details].join(' · ')}`;
}

/** Where a command's progress and other lines go. */
export interface ProgressView {
  /** A progress line: replaces the previous one on a terminal. */
  show: (line: string) => void;
  /** Any other line: below the progress line. */
  log: (line: string) => void;
  /** Ends the progress line (before the summary). */
  end: () => void;
}

/** Progress on standard output: rewritten in place on a terminal, a line per change otherwise. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stdout): ProgressView {
  if (!stream.isTTY) {
    const log = (line: string) => console.log(line);
    return { show: log, log, end: () => undefined };
  }
  let onScreen = false;
  const end = () => {
    if (onScreen) stream.write('\n');
    onScreen = false;
  };
  return {
    // \x1b[K clears what a longer previous line left.
    show: (line) => {
      stream.write(`\r${line}\x1b[K`);
      onScreen = true;
    },
    log: (line) => {
      end();
      console.log(line);
    },
    end,
  };
}
