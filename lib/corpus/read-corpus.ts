import { pyStrip } from '../text/py-strip.js';
import { CorpusError } from './corpus-error.js';
import { type KoLmText, koLmFileRecordBatches } from './ko-lm-dataformat.js';
import { readTxtLines } from './read-txt-lines.js';

/** One sentence as the pretraining builder receives it: the string KoBigBird's `add_line` tokenizes. */
export interface CorpusSentence {
  /** Stripped as Python's `str.strip()` strips, never empty, `\n` turned into spaces. */
  readonly text: string;
  readonly file: string;
  /** 1-based line of the .txt file, or of the document's JSON line in the archive. */
  readonly line: number;
  /** 0-based document number inside the file. */
  readonly document: number;
}

/**
 * Consecutive sentences of one file. Batches (one per read chunk for .txt, up to 4096 sentences for
 * .jsonl.zst) keep the per-sentence cost to a loop iteration instead of an awaited promise.
 */
export interface SentenceBatch {
  readonly file: string;
  readonly sentences: CorpusSentence[];
  /** Documents begun so far in this file, counting those without any non-empty sentence. */
  readonly documents: number;
  /** The file's final batch (possibly without sentences): the builder flushes its buffer after it. */
  readonly last: boolean;
}

export interface ReadCorpusOptions {
  /** Bytes per read (default 1 MiB). */
  readonly chunkSize?: number;
  /**
   * Called with the size of every chunk read from the file as it is consumed (compressed bytes for
   * `.jsonl.zst`): they add up to the file's size, unlike the sentences' text, so progress measured
   * in them ends at 100% for every format.
   */
  readonly onRead?: (bytes: number) => void;
  /** The longest line (.txt) or document's JSON line (.jsonl.zst) read, in bytes (default `MAX_LINE_BYTES`, 64 MiB). */
  readonly maxLineBytes?: number;
}

/**
 * The sentences of one corpus file, in batches, exactly as KoBigBird's builder feeds them to its
 * example builder (`write_examples_from_txt` / `write_examples_from_kldf`, then `add_line`):
 * - `.txt`: every line (universal newlines, strict UTF-8), stripped; empty lines skipped. Blank lines
 *   end a document for `documents`, but the builder itself ignores documents.
 * - `.jsonl.zst`: every document's `text`: a string is one sentence; otherwise it is iterated as
 *   Python iterates it — a list's elements (each must be a string), a dict's keys; each stripped,
 *   empties skipped, `\n` turned into spaces. A number, boolean or null `text`, or a list holding a
 *   non-string, crashed the reference and is a `CorpusError` here, as is a sentence with a lone
 *   surrogate (a JSON `\uD800` escape), which the reference's tokenizer cannot encode.
 * Every file yields at least one batch, and exactly one with `last: true`.
 */
export async function* readCorpusFile(file: string, options: ReadCorpusOptions = {}): AsyncGenerator<SentenceBatch> {
  let previous: Omit<SentenceBatch, 'last'> | undefined;
  for await (const batch of fileBatches(file, options)) {
    if (previous) yield { ...previous, last: false };
    previous = batch;
  }
  yield { file, sentences: [], documents: 0, ...previous, last: true };
}

/**
 * The same sentences as `readCorpusFile`, as bare strings: what the pretraining builder needs, without
 * an object per sentence (on a large corpus those objects are most of what the reader allocates).
 */
export async function* readCorpusTexts(file: string, options: ReadCorpusOptions = {}): AsyncGenerator<string[]> {
  if (!file.endsWith('.txt')) {
    for await (const batch of readCorpusFile(file, options)) yield batch.sentences.map((sentence) => sentence.text);
    return;
  }
  for await (const batch of readTxtLines(file, options)) yield stripNonEmpty(batch.lines);
}

/**
 * Strips every line and drops the empty ones, in place. A function of its own, called per batch, so
 * V8 optimises it with the feedback of earlier batches rather than compiling the generator's loop
 * mid-batch and throwing that away at the first line after it (once more in every worker isolate).
 */
function stripNonEmpty(lines: string[]): string[] {
  let kept = 0;
  for (let k = 0; k < lines.length; k++) {
    const text = pyStrip(lines[k]);
    if (text !== '') lines[kept++] = text;
  }
  lines.length = kept;
  return lines;
}

/** Every sentence of every file, file after file; `last` marks where each file ends. */
export async function* readCorpusSentences(files: Iterable<string>, options: ReadCorpusOptions = {}): AsyncGenerator<SentenceBatch> {
  for (const file of files) yield* readCorpusFile(file, options);
}

function fileBatches(file: string, options: ReadCorpusOptions): AsyncGenerator<Omit<SentenceBatch, 'last'>> {
  if (file.endsWith('.txt')) return txtBatches(file, options);
  if (file.endsWith('.jsonl.zst')) return jsonlBatches(file, options);
  throw new CorpusError(file, 'unsupported corpus file (expected .txt or .jsonl.zst)');
}

async function* txtBatches(file: string, options: ReadCorpusOptions): AsyncGenerator<Omit<SentenceBatch, 'last'>> {
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
      sentences.push({ text, file, line: batch.firstLine + k, document });
    }
    yield { file, sentences, documents: document + (inDocument ? 1 : 0) };
  }
}

const BATCH = 4096;

async function* jsonlBatches(file: string, options: ReadCorpusOptions): AsyncGenerator<Omit<SentenceBatch, 'last'>> {
  let document = 0;
  let sentences: CorpusSentence[] = [];
  for await (const records of koLmFileRecordBatches(file, options)) {
    for (const record of records) {
      for (const part of sentenceParts(record.text, file, record.line)) {
        const stripped = pyStrip(part);
        if (stripped === '') continue;
        const text = stripped.replaceAll('\n', ' ');
        if (!isWellFormed(text)) {
          throw new CorpusError(
            file,
            'a sentence holds a lone surrogate (a \\uD800–\\uDFFF escape without its pair); the reference tokenizer cannot encode it',
            { line: record.line },
          );
        }
        sentences.push({ text, file, line: record.line, document });
      }
      document++;
      if (sentences.length >= BATCH) {
        yield { file, sentences, documents: document };
        sentences = [];
      }
    }
  }
  yield { file, sentences, documents: document };
}

/** `doc = [doc] if type(doc) == str else doc; for line in doc: line.strip()` — with Python's crashes as errors. */
function sentenceParts(text: KoLmText, file: string, line: number): readonly string[] {
  if (typeof text === 'string') return [text];
  if (Array.isArray(text)) {
    if (!text.every((part) => typeof part === 'string'))
      throw new CorpusError(file, '"text" is a list holding a non-string; the reference builder would crash on it', { line });
    return text as string[];
  }
  if (text !== null && typeof text === 'object') {
    const keys = Object.keys(text);
    // JSON.parse puts integer-like keys first, so the file's key order is lost; the reference keeps it.
    if (keys.length > 1 && keys.some((key) => /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1)) {
      throw new CorpusError(
        file,
        '"text" is an object with integer-like keys, whose order cannot be reproduced (the reference iterates the keys in file order)',
        { line },
      );
    }
    return keys;
  }
  throw new CorpusError(
    file,
    `"text" is ${text === null ? 'null' : `a ${typeof text}`}, not a string or list of strings; the reference builder would crash on it`,
    { line },
  );
}

// String.prototype.isWellFormed (Node 20+) is missing from the ES2023 type library.
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();
