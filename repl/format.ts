/** Plain-text layout helpers for terminal output (no pipeline logic). */

/** Display width of a string in a terminal: Hangul, CJK and other wide characters take two cells. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

export const padEnd = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - displayWidth(text)));
export const padStart = (text: string, width: number): string => ' '.repeat(Math.max(0, width - displayWidth(text))) + text;

/** A table with a header row; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((row) => row.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)))];
  const widths = header.map((_, col) => cells.reduce((widest, row) => Math.max(widest, displayWidth(String(row[col] ?? ''))), 0));
  const numeric = header.map((_, col) => rows.length > 0 && rows.every((row) => typeof row[col] === 'number'));
  return cells
    .map((row) =>
      row
        .map((c, col) => (numeric[col] ? padStart(String(c), widths[col]) : padEnd(String(c), widths[col])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Tokens over ids, column-aligned, wrapped to the terminal width. */
export function alignedTokens(tokens: readonly string[], ids: ArrayLike<number>, width = 100): string {
  const lines: string[] = [];
  let top = 'tokens';
  let bottom = 'ids   ';
  tokens.forEach((token, k) => {
    const column = Math.max(displayWidth(token), String(ids[k]).length);
    if (displayWidth(top) + column + 2 > width) {
      lines.push(top, bottom, '');
      top = '      ';
      bottom = '      ';
    }
    top += `  ${padEnd(token, column)}`;
    bottom += `  ${padEnd(String(ids[k]), column)}`;
  });
  lines.push(top.trimEnd(), bottom.trimEnd());
  return lines.join('\n');
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** `values` as a line of block characters, at most `width` of them (evenly sampled), lowest to highest. */
export function sparkline(values: readonly number[], width = 40): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '';
  const step = Math.max(1, finite.length / width);
  const sampled: number[] = [];
  for (let i = 0; i < finite.length && sampled.length < width; i += step) sampled.push(finite[Math.floor(i)]);
  const low = Math.min(...sampled);
  const high = Math.max(...sampled);
  return sampled.map((v) => SPARKS[high === low ? 0 : Math.round(((v - low) / (high - low)) * (SPARKS.length - 1))]).join('');
}
