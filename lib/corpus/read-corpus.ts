import { pyStrip } from '../text/py-strip.js';
import { CorpusError } from './corpus-error.js';
import { koLmRecords } from './ko-lm-dataformat.js';
import { readTxtLines } from './read-txt-lines.js';

/** One sentence as the pretraining builder receives it (what KoBigBird passes to `add_line`). */
export interface CorpusSentence {
  /** Stripped (Python `str.strip()`), never empty, newlines turned into spaces. */
  readonly text: string;
  /** 1-based line of the .txt file, or of the JSON line in the archive. */
  readonly line: number;
  /** 0-based document number inside the file. */
  readonly document: number;
}

/** Sentences read from one chunk of a file, and how many documents the file has had so far. */
export interface SentenceBatch {
  readonly sentences: CorpusSentence[];
  /** Documents started so far in this file, counting those without any non-empty sentence. */
  readonly documents: number;
}

export interface ReadCorpusOptions {
  readonly chunkSize?: number;
}

/**
 * The sentences of one corpus file, in batches, exactly as KoBigBird's builder feeds them to its
 * example builder:
 * - `.txt`: every line, stripped; empty lines skipped. (Blank lines separate documents for the
 *   statistics here, but the reference builder ignores documents, and so does packing.)
 * - `.jsonl.zst`: every document's `text`; a string is one sentence, a list gives one per element;
 *   each stripped, empties skipped, and inner newlines turned into spaces.
 * The builder flushes its buffer at the end of every file, so it reads files one at a time.
 */
export async function* readCorpusFile(file: string, options: ReadCorpusOptions = {}): AsyncGenerator<SentenceBatch> {
  if (file.endsWith('.txt')) {
    let document = 0;
    let inDocument = false;
    for await (const batch of readTxtLines(file, options)) {
      const sentences: CorpusSentence[] = [];
      for (let k = 0; k < batch.lines.length; k++) {
        const text = pyStrip(batch.lines[k]);
        if (text === '') {
          if (inDocument) document++;
          inDocument = false;
          continue;
        }
        inDocument = true;
        sentences.push({ text, line: batch.firstLine + k, document });
      }
      yield { sentences, documents: document + (inDocument ? 1 : 0) };
    }
    return;
  }
  if (file.endsWith('.jsonl.zst')) {
    let document = 0;
    let sentences: CorpusSentence[] = [];
    for await (const record of koLmRecords(file, options)) {
      const parts = typeof record.text === 'string' ? [record.text] : record.text;
      if (!Array.isArray(parts) || parts.some((p) => typeof p !== 'string')) {
        throw new CorpusError(file, '"text" must be a string or a list of strings', { line: record.line });
      }
      for (const part of parts) {
        const text = pyStrip(part);
        if (text !== '') sentences.push({ text: text.replaceAll('\n', ' '), line: record.line, document });
      }
      document++;
      if (sentences.length >= 4096) {
        yield { sentences, documents: document };
        sentences = [];
      }
    }
    yield { sentences, documents: document };
    return;
  }
  throw new CorpusError(file, 'unsupported corpus file (expected .txt or .jsonl.zst)');
}
