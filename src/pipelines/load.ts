/**
 * Pipeline specs from files (client side: uses fs and the `yaml` package, never workflow code).
 * JSON or YAML; parse errors name the file, line and column; validation problems are listed with
 * the line they are on.
 */
import fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { stageActivityNames } from './activity-names';
import type { PipelineSpec } from './spec';
import { PipelineSpecError, pipelineSpecProblems, type SpecProblem } from './validate';

/** A spec file that is not valid JSON/YAML. */
export class PipelineSpecParseError extends Error {
  constructor(
    readonly fileName: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly reason: string,
  ) {
    const where = line === undefined ? fileName : `${fileName}:${line}${column === undefined ? '' : `:${column}`}`;
    super(`Cannot parse pipeline spec ${where}: ${reason}`);
    this.name = 'PipelineSpecParseError';
  }
}

/** Line and column (1-based) of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function parseJson(text: string, fileName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const lineColumn = /line (\d+) column (\d+)/.exec(reason);
    const offset = /position (\d+)/.exec(reason);
    const at = lineColumn
      ? { line: Number(lineColumn[1]), column: Number(lineColumn[2]) }
      : offset
        ? position(text, Number(offset[1]))
        : text.trim() === ''
          ? { line: 1, column: 1 }
          : undefined;
    throw new PipelineSpecParseError(fileName, at?.line, at?.column, `invalid JSON: ${reason}`);
  }
}

function parseYaml(text: string, fileName: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const at = lineCounter.linePos(error.pos[0]);
    const reason = error.message.split('\n')[0];
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
    throw new PipelineSpecParseError(fileName, at.line, at.col, `invalid YAML: ${reason}${more}`);
  }
  return doc.toJS();
}

/** The keys of a problem path: `stages.notify.routes[1].to` → ['stages', 'notify', 'routes', 1, 'to']. */
function pathKeys(path: string): (string | number)[] | undefined {
  const keys: (string | number)[] = [];
  const token = /\.?([^.[\]"]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let rest = 0;
  while (rest < path.length) {
    token.lastIndex = rest;
    const match = token.exec(path);
    if (!match) return undefined;
    keys.push(match[1] ?? (match[2] !== undefined ? Number(match[2]) : (JSON.parse(match[3]) as string)));
    rest = token.lastIndex;
  }
  return keys;
}

/** The problems with the line each is on (or the line of the closest enclosing value that exists). */
function withLines(problems: SpecProblem[], text: string): SpecProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) return problems;
  return problems.map((problem) => {
    const keys = pathKeys(problem.path);
    for (let n = keys?.length ?? 0; keys && n > 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        return { ...problem, line: lineCounter.linePos(node.range[0]).line };
      }
    }
    return problem;
  });
}

/**
 * A validated spec from the text of a spec file: JSON when the file name ends in `.json` or the
 * text parses as JSON, YAML otherwise. Throws a PipelineSpecParseError naming the file, line and
 * column when it does not parse, a PipelineSpecError listing every problem (with its line) when it is invalid.
 */
export function parsePipelineSpec(
  text: string,
  fileName: string,
  knownActivities: readonly string[] = stageActivityNames,
): PipelineSpec {
  let data: unknown;
  if (fileName.toLowerCase().endsWith('.json')) {
    data = parseJson(text, fileName);
  } else {
    let json = true;
    try {
      data = JSON.parse(text);
    } catch {
      json = false;
    }
    if (!json) data = parseYaml(text, fileName);
  }
  const problems = pipelineSpecProblems(data, knownActivities);
  if (problems.length > 0) {
    const name =
      typeof data === 'object' && data !== null && typeof (data as { name?: unknown }).name === 'string'
        ? (data as { name: string }).name || undefined
        : undefined;
    throw new PipelineSpecError(withLines(problems, text), name, fileName);
  }
  return data as PipelineSpec;
}

/** Reads, parses and validates a spec file (JSON or YAML); every error names the file. */
export function loadPipelineSpecFile(
  file: string,
  knownActivities: readonly string[] = stageActivityNames,
): PipelineSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot read pipeline spec ${file}: ${reason}`);
  }
  return parsePipelineSpec(text, file, knownActivities);
}
