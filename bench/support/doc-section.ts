/**
 * Sections of a generated Markdown file that belong to one writer: kept between HTML comment
 * markers, so several benchmarks can write into docs/benchmarks.md, each replacing only its own part.
 */

const start = (name: string) => `<!-- section ${name}: start (generated; edit the benchmark, not this text) -->`;
const end = (name: string) => `<!-- section ${name}: end -->`;

/** `text` with the section `name` set to `body`: replaced where its markers are, else appended. */
export function withSection(text: string, name: string, body: string): string {
  const block = `${start(name)}\n\n${body.trim()}\n\n${end(name)}\n`;
  const from = text.indexOf(start(name));
  const to = text.indexOf(end(name));
  if (from >= 0 && to > from) {
    return text.slice(0, from) + block + text.slice(to + end(name).length).replace(/^\n/, '');
  }
  return `${text.trimEnd()}\n\n${block}`;
}

/**
 * Every marked section of `text`, for a writer that regenerates the rest of the file
 * (bench/pipeline-throughput.ts) and must not drop the others' sections.
 */
export function markedSections(text: string): string {
  const blocks = text.match(/<!-- section (\S+): start [^\n]*-->[\s\S]*?<!-- section \1: end -->\n?/g) ?? [];
  return blocks.map((b) => `\n${b}`).join('');
}
