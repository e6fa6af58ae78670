import { escapeHtml, type MimeBundle, show } from './mime.js';

/** What a danfojs DataFrame offers that a table needs (danfojs itself is not loaded here). */
export interface DataFrameLike {
  readonly columns: readonly string[];
  readonly values: readonly (readonly unknown[])[] | readonly unknown[];
  readonly index?: readonly (string | number)[];
}

/** A table: a danfojs DataFrame, an array of row objects, or explicit columns and rows. */
export type TableInput =
  | DataFrameLike
  | readonly Readonly<Record<string, unknown>>[]
  | { readonly columns: readonly string[]; readonly rows: readonly (readonly unknown[])[] };

export interface TableOptions {
  /** A caption above the table. */
  readonly caption?: string;
  /** Rows shown at most (default 50); the rest are counted in a last line. */
  readonly maxRows?: number;
  /** Show the DataFrame's index as a first column (default: only when it is not 0, 1, 2, …). */
  readonly showIndex?: boolean;
  /** Columns whose numbers are shown as they are, without thousands separators (ids, years). */
  readonly plain?: readonly string[];
}

interface Normalized {
  readonly columns: string[];
  readonly rows: unknown[][];
  readonly index?: (string | number)[];
}

const isDataFrame = (t: TableInput): t is DataFrameLike => !Array.isArray(t) && 'values' in t && 'columns' in t;

function normalize(input: TableInput, showIndex: boolean | undefined): Normalized {
  if (Array.isArray(input)) {
    const rows = input as readonly Readonly<Record<string, unknown>>[];
    const columns: string[] = [];
    for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
    return { columns, rows: rows.map((row) => columns.map((c) => row[c])) };
  }
  if (isDataFrame(input)) {
    const columns = [...input.columns];
    // A one-column DataFrame's values may be a flat array.
    const rows = (input.values as unknown[]).map((row) => (Array.isArray(row) ? [...row] : [row]));
    const index = input.index ? [...input.index] : undefined;
    const defaultIndex = !index || index.every((v, i) => v === i);
    return { columns, rows, index: (showIndex ?? !defaultIndex) && index ? index : undefined };
  }
  const explicit = input as { columns: readonly string[]; rows: readonly (readonly unknown[])[] };
  return { columns: [...explicit.columns], rows: explicit.rows.map((r) => [...r]) };
}

/** A cell's text: integers with thousands separators, other numbers to 4 decimals at most. */
export function formatCell(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 4 });
  }
  if (typeof value === 'bigint') return value.toLocaleString('en-US');
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Numbers, and strings that read as one (`12.5%`, `1,024`), are right-aligned. */
const isNumeric = (v: unknown): boolean => typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && /^[-+]?[\d,]*\.?\d+\s?%?$/.test(v));

/** A table as one display output: `text/html` (a `<table>`, every value escaped) and aligned `text/plain`. */
export function tableBundle(input: TableInput, options: TableOptions = {}): MimeBundle {
  const { columns, rows, index } = normalize(input, options.showIndex);
  const maxRows = options.maxRows ?? 50;
  const shownRows = rows.slice(0, maxRows);
  const hidden = rows.length - shownRows.length;
  const headers = index ? ['', ...columns] : columns;
  const cells = shownRows.map((row, r) => (index ? [index[r], ...row] : row));
  // A column is right-aligned when every value in it is a number.
  const plain = new Set(options.plain ?? []);
  const text = (value: unknown, c: number): string => (plain.has(headers[c]) && typeof value === 'number' ? String(value) : formatCell(value));
  const numeric = headers.map((_, c) => cells.length > 0 && cells.every((row) => row[c] === undefined || row[c] === null || isNumeric(row[c])));

  const align = (c: number): string => (numeric[c] ? ' style="text-align: right;"' : ' style="text-align: left;"');
  const html = [
    '<table class="kbb-table">',
    options.caption ? `<caption style="text-align: left; font-weight: bold;">${escapeHtml(options.caption)}</caption>` : '',
    `<thead><tr>${headers.map((h, c) => `<th${align(c)}>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...cells.map((row) => `<tr>${headers.map((_, c) => `<td${align(c)}>${escapeHtml(text(row[c], c))}</td>`).join('')}</tr>`),
    '</tbody>',
    '</table>',
    hidden > 0 ? `<p class="kbb-table-more">… ${hidden.toLocaleString('en-US')} more rows</p>` : '',
  ]
    .filter(Boolean)
    .join('\n');

  const texts = [headers.map(String), ...cells.map((row) => headers.map((_, c) => text(row[c], c)))];
  const widths = headers.map((_, c) => Math.max(...texts.map((row) => [...row[c]].length)));
  const pad = (s: string, c: number): string => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]));
  const plainText = [
    ...(options.caption ? [options.caption] : []),
    ...texts.map((row) =>
      row
        .map((s, c) => pad(s, c))
        .join('  ')
        .trimEnd(),
    ),
    ...(hidden > 0 ? [`… ${hidden.toLocaleString('en-US')} more rows`] : []),
  ].join('\n');
  return { data: { 'text/html': html, 'text/plain': plainText } };
}

/** Displays a table (see tableBundle). */
export function table(input: TableInput, options: TableOptions = {}): void {
  show(tableBundle(input, options));
}
