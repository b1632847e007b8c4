/**
 * A horizontal bar chart of a reduce stage's histograms as SVG: one section per histogram field,
 * one bar per bin (largest first), each labelled with its bin and count. Plain text, so any
 * browser shows it and tests can read it; bars carry `class="bar"` and `data-bin`.
 */
import type { ReduceResult } from '../../pipelines/spec';

const width = 720;
const labelWidth = 170;
const barSpace = 460;
const rowHeight = 24;
const headerHeight = 34;
const margin = 16;

/** Bins of a histogram, largest first, ties by name: the order of the chart and the JSON report. */
export function sortedBins(bins: Record<string, number>): [string, number][] {
  return Object.entries(bins).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function histogramSvg(title: string, reduction: ReduceResult): string {
  const parts: string[] = [];
  let y = margin;
  parts.push(`<text x="${margin}" y="${y + 16}" font-size="18" font-weight="bold">${escapeXml(title)}</text>`);
  y += headerHeight;
  const fields = Object.entries(reduction.histograms);
  if (fields.length === 0) {
    parts.push(
      `<text x="${margin}" y="${y + 14}" font-size="14">No histogram: the reduce stage lists no fields.</text>`,
    );
    y += rowHeight;
  }
  for (const [field, bins] of fields) {
    const rows = sortedBins(bins);
    const largest = Math.max(1, ...rows.map(([, n]) => n));
    parts.push(
      `<text x="${margin}" y="${y + 16}" font-size="15" font-weight="bold">${escapeXml(field)} (${rows.length} values over ${reduction.count} items)</text>`,
    );
    y += headerHeight - 6;
    for (const [bin, n] of rows) {
      const barWidth = Math.max(1, Math.round((n / largest) * barSpace));
      const label = escapeXml(bin);
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 16}" font-size="13" text-anchor="end">${label}</text>`,
        `<rect class="bar" data-bin="${label}" x="${labelWidth}" y="${y + 3}" width="${barWidth}" height="${rowHeight - 6}" fill="#4c78a8"/>`,
        `<text x="${labelWidth + barWidth + 6}" y="${y + 16}" font-size="13">${n}</text>`,
      );
      y += rowHeight;
    }
    y += margin;
  }
  const height = y + margin;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
