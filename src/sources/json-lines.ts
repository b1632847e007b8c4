import fs from 'node:fs';
import readline from 'node:readline';

export interface JsonLine {
  value: unknown;
  /** `<file>:<line>`, for error messages that point at the place. */
  where: string;
}

/**
 * The JSON values of a JSON-lines file, one per line; blank lines and `#` comments skipped. A line
 * that is not JSON fails with its place and `example`, the shape a line should have.
 */
export async function* readJsonLines(absolute: string, example: string): AsyncIterable<JsonLine> {
  const lines = readline.createInterface({ input: fs.createReadStream(absolute), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo += 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${absolute}:${lineNo}`;
    try {
      yield { value: JSON.parse(line), where };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new Error(`${where}: not valid JSON; each line must be an object like ${example}.`);
    }
  }
}
