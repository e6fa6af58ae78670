import { readCorpusTexts } from '../corpus/index.js';
import { fileSystemFor } from '../fs/index.js';

/** A piece of a corpus file that holds whole words: raw bytes of whole lines, or texts already read. */
export type CorpusChunk =
  | { readonly kind: 'utf8'; readonly file: string; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly kind: 'text'; readonly file: string; readonly text: string };

const CHUNK_BYTES = 1 << 20;

/**
 * A corpus file in chunks for word counting. A `.txt` file goes as raw bytes cut after a line feed
 * (no word spans two chunks, and the counting thread decodes them); a `.jsonl.zst` archive goes
 * through kbb's ko_lm_dataformat reader, its documents' texts joined by line feeds. `onRead` gets the
 * bytes read from the file (compressed ones for an archive) as they are read.
 */
export async function* corpusChunks(file: string, onRead?: (bytes: number) => void): AsyncGenerator<CorpusChunk> {
  if (!file.endsWith('.txt')) {
    for await (const texts of readCorpusTexts(file, { onRead })) if (texts.length > 0) yield { kind: 'text', file, text: texts.join('\n') };
    return;
  }
  let carry: Uint8Array = new Uint8Array(0);
  let offset = 0; // of carry[0] in the file
  for await (const piece of fileSystemFor(file).createReadStream(file, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    onRead?.(piece.length);
    const bytes = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
    const cut = bytes.lastIndexOf(0x0a) + 1;
    if (cut === 0) {
      carry = new Uint8Array(bytes); // a line longer than a chunk: keep reading
      continue;
    }
    yield { kind: 'utf8', file, offset, bytes: new Uint8Array(bytes.subarray(0, cut)) };
    offset += cut;
    carry = new Uint8Array(bytes.subarray(cut));
  }
  if (carry.length > 0) yield { kind: 'utf8', file, offset, bytes: carry };
}
