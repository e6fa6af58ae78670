import { fileSystemFor } from '../fs/index.js';
import { CorpusError, readProblem } from './corpus-error.js';
import { lineLimit, lineTooLong } from './max-line-bytes.js';
import { completeUtf8Prefix, decodeUtf8, firstInvalidUtf8 } from './utf8.js';

export interface TxtReadOptions {
  /** Bytes per read (default 1 MiB); memory stays bounded by this and the longest line. */
  readonly chunkSize?: number;
  /** Called with the size of every chunk read, as it is consumed: by the end, the file's size. */
  readonly onRead?: (bytes: number) => void;
  /** The longest line read, in bytes without its terminator (default `MAX_LINE_BYTES`, 64 MiB); a longer one is a `CorpusError`. */
  readonly maxLineBytes?: number;
}

/** Consecutive lines of a text file: `lines[k]` is line number `firstLine + k` (1-based). */
export interface LineBatch {
  readonly lines: string[];
  readonly firstLine: number;
}

const LINE_BREAK = /\r\n|\r|\n/;
const HAS_LINE_BREAK = /[\r\n]/;

/**
 * Streams the lines of a UTF-8 text file as Python's text mode gives them: strict decoding (invalid
 * UTF-8 is an error naming the line and byte), universal newlines (`\n`, `\r\n` and a lone `\r` end
 * a line; U+2028 and U+0085 do not), line terminators removed, a byte-order mark kept.
 * Lines come in batches, one per chunk read, to keep per-line overhead off the hot path. A line
 * longer than `maxLineBytes` is a `CorpusError` as soon as that much of it has been read, so memory
 * stays bounded by the chunk size and the limit, whatever the file holds.
 * `path` may be local or `gs://` (streamed, as every read is).
 */
export async function* readTxtLines(path: string, options: TxtReadOptions = {}): AsyncGenerator<LineBatch> {
  let carryBytes: Uint8Array = new Uint8Array(0); // an incomplete UTF-8 sequence at a chunk's end
  let carryText = ''; // the start of a line whose end has not been read yet
  let swallowLineFeed = false; // the last chunk ended in '\r': a '\n' next belongs to it
  let nextLine = 1;
  let streamOffset = 0; // byte offset of carryBytes[0] (or of the next chunk)
  let carryTextBytes = 0; // UTF-8 bytes of carryText
  const maxLineBytes = lineLimit(options.maxLineBytes);

  const stream = fileSystemFor(path).createReadStream(path, { highWaterMark: options.chunkSize ?? 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      options.onRead?.(chunk.length);
      const bytes = carryBytes.length > 0 ? Buffer.concat([carryBytes, chunk]) : chunk;
      const cut = completeUtf8Prefix(bytes);
      const piece = bytes.subarray(0, cut);
      carryBytes = bytes.subarray(cut);
      const text = decodeOrThrow(path, piece, streamOffset, nextLine, carryText, swallowLineFeed);
      streamOffset += cut;
      const batch = split(text, cut);
      if (batch.length > 0) yield { lines: batch, firstLine: nextLine - batch.length };
    }
  } catch (error) {
    if (error instanceof CorpusError) throw error;
    throw new CorpusError(path, readProblem(error, path));
  }
  if (carryBytes.length > 0) {
    const lead = carryBytes[0];
    const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    throw new CorpusError(path, `invalid UTF-8: the file ends inside a character (${carryBytes.length} of its ${length} bytes)`, {
      line: nextLine,
      byteOffset: streamOffset,
    });
  }
  if (carryText !== '') yield { lines: [carryText], firstLine: nextLine };

  /** The lines `text` (`bytes` bytes of the file) completes; the unfinished one is carried. */
  function split(text: string, bytes: number): string[] {
    let from = 0;
    if (swallowLineFeed && text.length > 0) {
      if (text.charCodeAt(0) === 0x0a) from = 1;
      swallowLineFeed = false;
    }
    if (from === text.length) return [];
    const rest = from === 0 ? text : text.slice(from);
    if (!HAS_LINE_BREAK.test(rest)) {
      // No line ends here: the carried line grows (a rope, not copied) and is checked against the limit.
      carryText += rest;
      carryTextBytes += bytes - from;
      if (carryTextBytes > maxLineBytes) tooLong(nextLine, streamOffset - carryTextBytes);
      return [];
    }
    const parts = (carryText + rest).split(LINE_BREAK);
    carryText = parts.pop()!;
    carryTextBytes = Buffer.byteLength(carryText);
    // A line is at most three UTF-8 bytes per UTF-16 unit: only a line that long can be over the limit.
    for (let k = 0; k < parts.length; k++) {
      if (parts[k].length * 3 > maxLineBytes && Buffer.byteLength(parts[k]) > maxLineBytes) tooLong(nextLine + k);
    }
    if (carryTextBytes > maxLineBytes) tooLong(nextLine + parts.length, streamOffset - carryTextBytes);
    // A '\r' at the very end already ended its line; if the next chunk starts with '\n' that is the same break.
    if (text.charCodeAt(text.length - 1) === 0x0d) swallowLineFeed = true;
    nextLine += parts.length;
    return parts;
  }

  function tooLong(line: number, byteOffset?: number): never {
    throw new CorpusError(path, lineTooLong(maxLineBytes), { line, byteOffset });
  }
}

function decodeOrThrow(path: string, piece: Uint8Array, pieceOffset: number, nextLine: number, carryText: string, swallowLineFeed: boolean): string {
  const bad = firstInvalidUtf8(piece);
  if (bad < 0) return decodeUtf8(piece);
  let before = decodeUtf8(piece.subarray(0, bad));
  // A '\n' right after a '\r' that ended the previous chunk finishes that line break, not a new one.
  if (swallowLineFeed && before.charCodeAt(0) === 0x0a) before = before.slice(1);
  const line = nextLine + (carryText + before).split(LINE_BREAK).length - 1;
  throw new CorpusError(path, `invalid UTF-8 (byte 0x${piece[bad].toString(16).padStart(2, '0')})`, { line, byteOffset: pieceOffset + bad });
}

/** Every line of a text file with its 1-based number (a convenience over `readTxtLines`). */
export async function* txtLines(path: string, options: TxtReadOptions = {}): AsyncGenerator<{ readonly text: string; readonly line: number }> {
  for await (const batch of readTxtLines(path, options)) {
    for (let k = 0; k < batch.lines.length; k++) yield { text: batch.lines[k], line: batch.firstLine + k };
  }
}
