/**
 * The longest line kbb reads from a corpus: a `.txt` line, or one decompressed JSON line (one
 * document) of a `.jsonl.zst` archive, in bytes of UTF-8.
 *
 * Why a limit: a 17 KB `.jsonl.zst` can expand to a single 560 MB line, and a reader without one
 * keeps all of it before it sees the line end — about twice that in memory, then V8's "Cannot create
 * a string longer than …" with no file named. With it, a reader checks each line's length while it
 * reads (for archives, while decompressing, before the line is made a string), so its memory stays
 * proportional to the limit, not to the input, and a longer line is a `CorpusError` naming the file,
 * the line and the limit.
 *
 * 64 MiB is far above any real document (a whole novel is a few MB; the builder cuts examples at a
 * few thousand tokens anyway) and well below what V8 can hold as a string (512 M characters).
 * Readers take `maxLineBytes` to lower it (tests) or raise it up to `MAX_LINE_BYTES_LIMIT`.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The most a caller may set `maxLineBytes` to: below V8's longest string, with room for a chunk on top. */
export const MAX_LINE_BYTES_LIMIT = 256 * 1024 * 1024;

/** `maxLineBytes` as a reader uses it: the default, or the caller's value once checked. */
export function lineLimit(maxLineBytes: number | undefined): number {
  if (maxLineBytes === undefined) return MAX_LINE_BYTES;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1 || maxLineBytes > MAX_LINE_BYTES_LIMIT) {
    throw new RangeError(`maxLineBytes must be an integer from 1 to ${MAX_LINE_BYTES_LIMIT}, got ${maxLineBytes}`);
  }
  return maxLineBytes;
}

/** The problem a too-long line is, for a `CorpusError` (which adds the file, line and byte). */
export const lineTooLong = (limit: number): string =>
  `a line longer than ${formatLimit(limit)} (kbb's limit on one line or document, MAX_LINE_BYTES); split the document or check that the file is what it should be`;

const formatLimit = (bytes: number): string =>
  bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
