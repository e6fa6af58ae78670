import { isUtf8 } from 'node:buffer';
import { CorpusError } from './corpus-error.js';
import { lineTooLong, MAX_LINE_BYTES } from './max-line-bytes.js';
import { firstInvalidUtf8 } from './utf8.js';

/** A value as JSON can hold it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One JSON line of a ko_lm_dataformat archive, with where it came from. */
export interface KoLmRecord {
  /** `ob["text"]` as stored: in practice a string or a list of sentences. */
  readonly text: JsonValue;
  /** `ob.get("meta", {})`: as stored when present (even null), else `{}`. */
  readonly meta: JsonValue;
  /** The archive file (the `.jsonl.zst`, or the `.jsonl.zst.tar`). */
  readonly file: string;
  /** The tar member, for `.jsonl.zst.tar` archives. */
  readonly member?: string;
  /** 1-based JSON line number inside the decompressed stream (of the tar member, for tars). */
  readonly line: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NEWLINE = new Uint8Array([0x0a]);

/**
 * Turns a decompressed byte stream into ko_lm_dataformat records as `jsonlines.Reader` reads a binary
 * file: lines split at `\n` only, each strictly UTF-8 decoded and `json.loads`-ed, a blank line an
 * error, the last line valid without its `\n`. Complete lines are decoded a whole chunk at a time
 * (one validation and one decode per chunk, not per line); only the unfinished tail is carried.
 */
export class JsonLinesParser {
  private carry: Uint8Array[] = [];
  private carryLength = 0;
  /** Number of the next line to complete. */
  private line = 1;
  /** Decompressed offset of that line's first byte. */
  private offset = 0;

  constructor(
    /** What errors name: the file, or `file:member` for tar members. */
    private readonly label: string,
    private readonly file: string,
    private readonly member?: string,
    /** The longest line (without its `\n`) taken, in bytes; a longer one is a `CorpusError`. */
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /**
   * Takes the next decompressed bytes and appends the records of the lines they complete to `out`.
   * On a bad line it throws a `CorpusError`, after appending the records of the lines before it.
   * A line longer than `maxLineBytes` is refused as soon as that many of its bytes have come, so
   * what is held stays below the limit plus one chunk.
   */
  push(chunk: Uint8Array, out: KoLmRecord[]): void {
    // In pieces no longer than the limit, every line that starts and ends inside one is within it.
    if (chunk.length > this.maxLineBytes) {
      for (let at = 0; at < chunk.length; at += this.maxLineBytes) this.push(chunk.subarray(at, at + this.maxLineBytes), out);
      return;
    }
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      if (chunk.length > 0) {
        if (this.carryLength + chunk.length > this.maxLineBytes) this.fail(lineTooLong(this.maxLineBytes));
        this.carry.push(chunk);
        this.carryLength += chunk.length;
      }
      return;
    }
    let from = 0;
    if (this.carryLength > 0) {
      // Only the line that spans the chunk boundary is copied together.
      const first = chunk.indexOf(0x0a) + 1;
      if (this.carryLength + first - 1 > this.maxLineBytes) this.fail(lineTooLong(this.maxLineBytes));
      this.parseLines(Buffer.concat([...this.carry, chunk.subarray(0, first)], this.carryLength + first), out);
      from = first;
    }
    if (from < last + 1) this.parseLines(chunk.subarray(from, last + 1), out);
    this.carry = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    this.carryLength = chunk.length - (last + 1);
  }

  /** The end of the stream: a last line without `\n` still counts. */
  finish(out: KoLmRecord[]): void {
    if (this.carryLength === 0) return;
    const lines = Buffer.concat([...this.carry, NEWLINE], this.carryLength + 1);
    this.carry = [];
    this.carryLength = 0;
    this.parseLines(lines, out);
  }

  /** `bytes` holds whole lines, each ending in `\n`. */
  private parseLines(bytes: Uint8Array, out: KoLmRecord[]): void {
    if (!isUtf8(bytes)) {
      const bad = firstInvalidUtf8(bytes);
      const lineStart = bad === 0 ? 0 : bytes.lastIndexOf(0x0a, bad - 1) + 1;
      if (lineStart > 0) this.parseLines(bytes.subarray(0, lineStart), out);
      this.fail(`invalid UTF-8 (byte 0x${bytes[bad].toString(16).padStart(2, '0')})`, this.offset + (bad - lineStart));
    }
    const text = utf8.decode(bytes);
    let from = 0;
    while (from < text.length) {
      const end = text.indexOf('\n', from);
      const record = this.parseLine(text.slice(from, end));
      if (typeof record === 'string') {
        // Only an error needs the line's byte offset; counting it for every line would cost a pass per line.
        this.offset += Buffer.byteLength(text.slice(0, from));
        this.fail(record);
      }
      out.push(record);
      this.line++;
      from = end + 1;
    }
    this.offset += bytes.length;
  }

  /** The record of one line, or what is wrong with it. */
  private parseLine(text: string): KoLmRecord | string {
    // jsonlines (3.0 and later) skips one leading record separator or byte-order mark.
    const first = text.charCodeAt(0);
    const json = first === 0x1e || first === 0xfeff ? text.slice(1) : text;
    let value: JsonValue;
    try {
      value = JSON.parse(json) as JsonValue;
    } catch (error) {
      const python = parseWithNonFinite(json);
      if (python === undefined)
        return /^[ \t\r]*$/.test(json)
          ? 'blank line: every line of a JSON-lines archive must hold a JSON object'
          : `invalid JSON (${(error as Error).message})`;
      value = python.value;
    }
    if (value === null) return 'the line is JSON null, not an object';
    if (typeof value !== 'object' || Array.isArray(value))
      return `expected a JSON object {"text": …, "meta": …}, found ${Array.isArray(value) ? 'an array' : typeof value}`;
    if (!Object.hasOwn(value, 'text')) return 'the JSON object has no "text" key';
    const meta = Object.hasOwn(value, 'meta') ? value.meta : {};
    return { text: value.text, meta, file: this.file, member: this.member, line: this.line };
  }

  private fail(problem: string, byteOffset = this.offset): never {
    throw new CorpusError(this.label, problem, { line: this.line, byteOffset, decompressed: true });
  }
}

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/**
 * Python's `json.loads` also takes the bare words `NaN`, `Infinity` and `-Infinity` as numbers; only
 * tried once `JSON.parse` has refused a line. Outside strings each such word becomes a marker string,
 * which a reviver turns back into the number.
 */
function parseWithNonFinite(text: string): { readonly value: JsonValue } | undefined {
  if (!/NaN|Infinity/.test(text)) return undefined;
  const marker = '\u0000non-finite:';
  // The text between replaced words is copied in slices: a character at a time, a long line would
  // become millions of string pieces, many times its own size in memory.
  const pieces: string[] = [];
  let copiedTo = 0;
  let replaced = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \\ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d /* - */ && c !== 0x49 /* I */ && c !== 0x4e /* N */) continue;
    const word = text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : text.startsWith('NaN', i) ? 'NaN' : undefined;
    if (word !== undefined) {
      pieces.push(text.slice(copiedTo, i), JSON.stringify(`${marker}${word}`));
      replaced++;
      i += word.length - 1;
      copiedTo = i + 1;
    }
  }
  pieces.push(text.slice(copiedTo));
  const out = pieces.join('');
  let converted = 0;
  let value: JsonValue;
  try {
    value = JSON.parse(out, (_key, v: unknown) => {
      if (typeof v !== 'string' || !v.startsWith(marker) || !(v.slice(marker.length) in NON_FINITE)) return v;
      converted++;
      return NON_FINITE[v.slice(marker.length)];
    }) as JsonValue;
  } catch {
    return undefined;
  }
  // A word used as a key, or a real string equal to a marker, would leave the counts apart: not Python's JSON either way.
  return converted === replaced ? { value } : undefined;
}
