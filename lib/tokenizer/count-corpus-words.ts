import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CorpusError, readTxtLines } from '../corpus/index.js';
import { fileSystemFor } from '../fs/index.js';
import { workerScript } from '../threads/index.js';
import { type CorpusChunk, corpusChunks } from './corpus-chunks.js';
import type { CountWordsCommand, CountWordsReply, CountWordsWorkerData } from './count-words-worker.js';
import type { BertNormalizerOptions } from './normalizer.js';
import { SortedRuns } from './sorted-runs.js';
import { InvalidUtf8Error, WordCounter } from './word-counter.js';
import { KOBIGBIRD_NORMALIZER } from './wordpiece-trainer-options.js';

export interface CountCorpusWordsOptions {
  /** How text is normalized before it is split into words (default: KoBigBird's, cased). */
  readonly normalizer?: BertNormalizerOptions;
  /** Counting threads (default: one per core); 1 counts on the calling thread. */
  readonly threads?: number;
  /**
   * Distinct words a counting thread holds before it hands them over, sorted, to be merged (default
   * `MAX_WORDS_PER_THREAD`): what keeps the threads' memory bounded when a corpus has tens of millions
   * of distinct words, instead of every thread holding most of them.
   */
  readonly maxWordsPerThread?: number;
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

/** Two million words: a few hundred megabytes of map per thread at most. */
export const MAX_WORDS_PER_THREAD = 2_000_000;

/** Chunks each thread may have queued: one counting, one waiting, so a thread never idles on the reader. */
const CHUNKS_IN_FLIGHT = 2;
/** Below this a corpus is counted on the calling thread: starting threads would cost more than they save. */
const THREADED_MIN_BYTES = 4 << 20;

/**
 * Counts the words of corpus files (`.txt`, `.jsonl.zst`; local or `gs://`) as Hugging Face's trainer
 * counts them (see `forEachWord`). Files stream in 1 MiB chunks to one counting thread per core, at
 * most two chunks queued per thread. A thread hands its counts over, sorted, whenever it holds
 * `maxWordsPerThread` distinct words and at the end; the sorted runs are merged as they come
 * (`SortedRuns`), so the result is the same for any number of threads and memory is bounded by the
 * corpus's distinct words (held about twice at most) plus each thread's allowance, never by its size.
 * The reference trainer, too, keeps every distinct word with its count in memory; neither prunes
 * rare words nor spills to disk, since training needs every word anyway.
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
  const maxWords = options.maxWordsPerThread ?? MAX_WORDS_PER_THREAD;
  if (!(Number.isSafeInteger(maxWords) && maxWords >= 1)) throw new Error(`countCorpusWords: maxWordsPerThread must be a positive integer, got ${maxWords}`);
  const runs = new SortedRuns();
  if (threads === 1 || totalBytes < THREADED_MIN_BYTES) await countHere(files, normalizer, maxWords, runs, onRead, options.signal);
  else await countInThreads(files, normalizer, threads, maxWords, runs, onRead, options.signal);
  return { ...runs.result(), bytes: totalBytes };
}

async function countHere(
  files: readonly string[],
  normalizer: BertNormalizerOptions,
  maxWords: number,
  runs: SortedRuns,
  onRead: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const counter = new WordCounter(normalizer);
  for (const file of files) {
    for await (const chunk of corpusChunks(file, onRead)) {
      signal?.throwIfAborted();
      try {
        if (chunk.kind === 'text') counter.add(chunk.text);
        else counter.addUtf8(chunk.bytes);
      } catch (error) {
        if (error instanceof InvalidUtf8Error && chunk.kind === 'utf8') throw await invalidUtf8(chunk.file, chunk.offset);
        throw error;
      }
      if (counter.size >= maxWords) runs.add(counter.takeSorted());
    }
  }
  runs.add(counter.takeSorted());
}

interface CountingThread {
  readonly worker: Worker;
  inFlight: number;
}

async function countInThreads(
  files: readonly string[],
  normalizer: BertNormalizerOptions,
  count: number,
  maxWords: number,
  runs: SortedRuns,
  onRead: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const script = await workerScript(
    'count-words',
    new URL('./count-words-worker.ts', import.meta.url),
    new URL('./count-words-worker-entry.js', import.meta.url),
  );
  const chunks = new Map<number, CorpusChunk & { kind: 'utf8' }>();
  let failure: Error | Promise<Error> | undefined;
  let wake: () => void = () => {};
  const results: Promise<void>[] = [];
  const threads: CountingThread[] = [];
  for (let t = 0; t < count; t++) {
    const worker = new Worker(script, { workerData: { normalizer, maxWords } satisfies CountWordsWorkerData, execArgv: [] });
    const thread: CountingThread = { worker, inFlight: 0 };
    threads.push(thread);
    results.push(
      new Promise((resolve, reject) => {
        worker.on('message', (reply: CountWordsReply) => {
          if (reply.kind === 'counts') {
            runs.add({ words: reply.words, counts: reply.counts });
            if (reply.last) resolve();
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
    await Promise.all(results);
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
