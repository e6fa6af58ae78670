import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CorpusError, readTxtLines } from '../corpus/index.js';
import { fileSystemFor } from '../fs/index.js';
import { workerScript } from '../threads/index.js';
import { type CorpusChunk, corpusChunks } from './corpus-chunks.js';
import type { CountWordsCommand, CountWordsReply, CountWordsWorkerData } from './count-words-worker.js';
import type { BertNormalizerOptions } from './normalizer.js';
import { InvalidUtf8Error, WordCounter } from './word-counter.js';
import { mergeWordCounts } from './word-counts.js';
import { KOBIGBIRD_NORMALIZER } from './wordpiece-trainer-options.js';

export interface CountCorpusWordsOptions {
  /** How text is normalized before it is split into words (default: KoBigBird's, cased). */
  readonly normalizer?: BertNormalizerOptions;
  /** Counting threads (default: one per core); 1 counts on the calling thread. */
  readonly threads?: number;
  /** Called as the files are read, with the bytes read so far and the corpus's size. */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  readonly signal?: AbortSignal;
}

/** The distinct words of a corpus, sorted in JavaScript string order, with their counts. */
export interface CorpusWordCounts {
  readonly words: string[];
  readonly counts: Float64Array;
  /** Bytes of the corpus files (compressed, for archives). */
  readonly bytes: number;
}

/** Chunks each thread may have queued: one counting, one waiting, so a thread never idles on the reader. */
const CHUNKS_IN_FLIGHT = 2;
/** Below this a corpus is counted on the calling thread: starting threads would cost more than they save. */
const THREADED_MIN_BYTES = 4 << 20;

/**
 * Counts the words of corpus files (`.txt`, `.jsonl.zst`; local or `gs://`) as Hugging Face's trainer
 * counts them (see `forEachWord`). Files stream in 1 MiB chunks to one counting thread per core; each
 * thread sorts its own counts and the sorted runs are merged, so the result is the same for any
 * number of threads. Memory grows with the number of distinct words, not with the corpus: the
 * reference trainer also keeps every distinct word, and neither prunes nor spills them.
 */
export async function countCorpusWords(files: readonly string[], options: CountCorpusWordsOptions = {}): Promise<CorpusWordCounts> {
  if (files.length === 0) throw new Error('countCorpusWords: no corpus files');
  const normalizer = options.normalizer ?? KOBIGBIRD_NORMALIZER;
  const sizes = await Promise.all(
    files.map(async (file) => {
      const info = await fileSystemFor(file).stat(file);
      if (info === undefined || info.isDirectory) throw new CorpusError(file, info ? 'is a folder, not a corpus file' : 'not found');
      return info.size;
    }),
  );
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  let bytesRead = 0;
  const onRead = (bytes: number): void => {
    bytesRead += bytes;
    options.onProgress?.(bytesRead, totalBytes);
  };
  options.onProgress?.(0, totalBytes);
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const runs =
    threads === 1 || totalBytes < THREADED_MIN_BYTES
      ? await countHere(files, normalizer, onRead, options.signal)
      : await countInThreads(files, normalizer, threads, onRead, options.signal);
  return { ...mergeWordCounts(runs), bytes: totalBytes };
}

async function countHere(files: readonly string[], normalizer: BertNormalizerOptions, onRead: (bytes: number) => void, signal?: AbortSignal) {
  const counter = new WordCounter(normalizer);
  for (const file of files) {
    for await (const chunk of corpusChunks(file, onRead)) {
      signal?.throwIfAborted();
      if (chunk.kind === 'text') {
        counter.add(chunk.text);
        continue;
      }
      try {
        counter.addUtf8(chunk.bytes);
      } catch (error) {
        if (error instanceof InvalidUtf8Error) throw await invalidUtf8(chunk.file, chunk.offset);
        throw error;
      }
    }
  }
  return [counter.takeSorted()];
}

interface CountingThread {
  readonly worker: Worker;
  inFlight: number;
}

async function countInThreads(
  files: readonly string[],
  normalizer: BertNormalizerOptions,
  count: number,
  onRead: (bytes: number) => void,
  signal?: AbortSignal,
) {
  const script = await workerScript(
    'count-words',
    new URL('./count-words-worker.ts', import.meta.url),
    new URL('./count-words-worker-entry.js', import.meta.url),
  );
  const chunks = new Map<number, CorpusChunk & { kind: 'utf8' }>();
  let failure: Error | Promise<Error> | undefined;
  let wake: () => void = () => {};
  const results: Promise<{ words: string[]; counts: Float64Array }>[] = [];
  const threads: CountingThread[] = [];
  for (let t = 0; t < count; t++) {
    const worker = new Worker(script, { workerData: { normalizer } satisfies CountWordsWorkerData, execArgv: [] });
    const thread: CountingThread = { worker, inFlight: 0 };
    threads.push(thread);
    results.push(
      new Promise((resolve, reject) => {
        worker.on('message', (reply: CountWordsReply) => {
          if (reply.kind === 'counts') {
            resolve({ words: reply.words, counts: reply.counts });
            return;
          }
          thread.inFlight--;
          if (reply.kind === 'invalid-utf8') {
            const chunk = chunks.get(reply.id)!;
            failure ??= invalidUtf8(chunk.file, chunk.offset);
            chunks.delete(reply.id);
          } else if (reply.kind === 'error') {
            failure ??= new Error(reply.message);
          } else {
            chunks.delete(reply.id);
          }
          wake();
        });
        worker.on('error', (error) => {
          failure ??= error;
          reject(error);
          wake();
        });
        worker.on('exit', () => reject(new Error('a word-counting thread stopped before it finished')));
      }),
    );
  }
  for (const result of results) result.catch(() => {}); // awaited below, or the threads are stopped
  try {
    let nextId = 0;
    for (const file of files) {
      for await (const chunk of corpusChunks(file, onRead)) {
        signal?.throwIfAborted();
        let thread = leastBusy(threads);
        while (failure === undefined && thread.inFlight >= CHUNKS_IN_FLIGHT) {
          await new Promise<void>((resolve) => (wake = resolve));
          thread = leastBusy(threads);
        }
        if (failure !== undefined) throw await failure;
        const id = nextId++;
        thread.inFlight++;
        if (chunk.kind === 'utf8') {
          chunks.set(id, chunk);
          thread.worker.postMessage({ kind: 'utf8', id, bytes: chunk.bytes } satisfies CountWordsCommand, [chunk.bytes.buffer as ArrayBuffer]);
        } else {
          thread.worker.postMessage({ kind: 'text', id, text: chunk.text } satisfies CountWordsCommand);
        }
      }
    }
    while (failure === undefined && threads.some((thread) => thread.inFlight > 0)) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== undefined) throw await failure;
    for (const thread of threads) thread.worker.postMessage({ kind: 'finish' } satisfies CountWordsCommand);
    return await Promise.all(results);
  } finally {
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}

const leastBusy = (threads: readonly CountingThread[]): CountingThread => threads.reduce((best, thread) => (thread.inFlight < best.inFlight ? thread : best));

/** The error for bytes that are not UTF-8, placed by kbb's line reader (which names the line and byte). */
async function invalidUtf8(file: string, offset: number): Promise<Error> {
  try {
    for await (const _ of readTxtLines(file)) {
      // read to the bad line
    }
  } catch (error) {
    if (error instanceof CorpusError) return error;
  }
  return new CorpusError(file, 'invalid UTF-8', { byteOffset: offset });
}
