import { readCorpusTexts } from '../corpus/read-corpus.js';
import { PyRandom } from '../random/py-random.js';
import { encodeExample } from '../tfrecord/example.js';
import { IdBuffer } from '../tokenizer/id-buffer.js';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';
import { BUILD_DEFAULTS, tokenCacheBytesPerJob } from './build-defaults.js';
import { addExample, type BuildStats, emptyStats } from './build-stats.js';
import { builderVocab } from './builder-vocab.js';
import { ExampleBuilder, type PackingConfig, type PretrainingExample } from './example-builder.js';
import { toTfExample } from './features.js';
import { ownedShards, ShardWriters } from './shard-writers.js';

export interface JobOptions {
  readonly files: readonly string[];
  readonly job: number;
  readonly numJobs: number;
  readonly seed: number;
  readonly dupeFactor: number;
  readonly numShards: number;
  readonly outputDir: string;
  readonly config: PackingConfig;
  /** Called for every example written (for statistics and progress). */
  readonly onExample?: (example: PretrainingExample, info: { readonly shard: number; readonly file: string; readonly pass: number }) => void;
  /** Called as text is consumed, with the UTF-8 bytes of the sentences read since the last call. */
  readonly onProgress?: (bytes: number, examplesSoFar: number) => void;
  /**
   * Token ids kept from the first pass for the later dupe passes, at most this many bytes (default
   * this job's share of `BUILD_DEFAULTS.tokenCacheMb`); files beyond it are read and tokenized again
   * on every pass, as the reference does.
   */
  readonly tokenCacheBytes?: number;
  /** Stops the job between read batches; its unfinished shards are removed and the reason thrown. */
  readonly signal?: AbortSignal;
}

export interface JobResult {
  readonly job: number;
  readonly seed: number;
  readonly fileOrder: string[];
  readonly examples: number;
  readonly shardCounts: Map<number, number>;
  /** Each shard's size in bytes. */
  readonly shardBytes: Map<number, number>;
  readonly stats: BuildStats;
}

/**
 * One worker of the reference builder: its share of the files (i % numJobs == job), a Python RNG
 * seeded with (seed + job) mod 2^32, the file list shuffled once, then dupe_factor passes over it with
 * one ExampleBuilder whose buffer is flushed at every file end.
 */
export async function runJob(tokenizer: WordPieceTokenizer, options: JobOptions): Promise<JobResult> {
  const seed = (options.seed + options.job) % 2 ** 32;
  const rng = new PyRandom(seed);
  const fileOrder = rng.shuffle(options.files.filter((_, i) => i % options.numJobs === options.job));
  const vocab = builderVocab(tokenizer);
  const builder = new ExampleBuilder(options.config, rng, vocab);
  const stats = emptyStats();
  const writers = new ShardWriters(options.outputDir, ownedShards(options.job, options.numJobs, options.numShards), options.numShards);
  let examples = 0;
  // Where the examples being emitted come from. One `emit` for the whole job rather than a closure
  // per file and pass: a new closure at the same call site makes V8 throw away the optimised code
  // of the loops that call it ("wrong call target"), and every worker pays for that recompile again.
  const at = { file: '', pass: 0 };
  const emit = async (built: PretrainingExample[]): Promise<void> => {
    const { file, pass } = at;
    for (const example of built) {
      const shard = await writers.write(encodeExample(toTfExample(example)));
      examples++;
      addExample(stats, example, vocab.maskId);
      options.onExample?.(example, { shard, file, pass });
    }
  };
  const examplesSoFar = (): number => examples;
  // Tokenizing is deterministic, so the later passes reuse the first pass's ids where they fit.
  const cache = new Map<string, TokenizedFile>();
  // One tokenizing buffer for the whole job: growing a fresh one per file allocates (and the kernel
  // zeroes) about three times the file's ids, which two workers in one process pay for in contention.
  const scratch = { ids: new IdBuffer(SCRATCH_IDS), ends: new IdBuffer(SCRATCH_IDS / 8) };
  let cacheBudget = options.tokenCacheBytes ?? tokenCacheBytesPerJob(BUILD_DEFAULTS.tokenCacheMb, options.numJobs);
  try {
    for (let pass = 0; pass < options.dupeFactor; pass++) {
      for (const file of fileOrder) {
        at.file = file;
        at.pass = pass;
        const cached = cache.get(file);
        if (cached) {
          await replay(cached, builder, options, examplesSoFar, emit);
        } else {
          // Only the first pass fills the cache: a file that did not fit then will not fit later.
          const keep = pass === 0 && options.dupeFactor > 1 && cacheBudget > 0;
          const tokenized = await tokenizeAndBuild(file, tokenizer, builder, options, scratch, keep ? cacheBudget : 0, examplesSoFar, emit);
          if (tokenized) {
            cache.set(file, tokenized);
            cacheBudget -= tokenized.ids.byteLength + tokenized.ends.byteLength + tokenized.bytes.byteLength;
          }
        }
        await emit(builder.flush());
      }
    }
    await writers.close();
  } catch (error) {
    await writers.abort();
    throw error;
  }
  stats.unmaskableExamples = builder.unmaskableExamples;
  return { job: options.job, seed, fileOrder, examples, shardCounts: writers.counts, shardBytes: writers.sizes(), stats };
}

const SCRATCH_IDS = 2 ** 16;

/** One file's sentences tokenized back to back: sentence k is `ids[ends[k - 1] ?? 0, ends[k])`. */
interface TokenizedFile {
  readonly ids: Int32Array;
  readonly ends: Int32Array;
  /** File bytes read per progress step (one per read batch), for the progress of a replay. */
  readonly bytes: Float64Array;
  /** Sentences per progress step. */
  readonly steps: Int32Array;
}

type Emit = (built: PretrainingExample[]) => Promise<void>;

/**
 * Reads and tokenizes one file into the builder. While the ids fit in `budget` bytes they are kept
 * and returned for later passes; past it they are dropped and each sentence reuses one scratch buffer.
 *
 * The per-sentence loops live in their own functions (`tokenizeBatch`, `replayStep`), called once per
 * read batch: V8 then optimises them as whole functions with the type feedback of earlier batches,
 * instead of compiling the long-running outer loops on the stack (OSR) halfway through their first
 * batch and throwing that code away at the first line the batch had not reached yet, once per loop
 * and once again in every worker isolate.
 */
async function tokenizeAndBuild(
  file: string,
  tokenizer: WordPieceTokenizer,
  builder: ExampleBuilder,
  options: JobOptions,
  scratch: { readonly ids: IdBuffer; readonly ends: IdBuffer },
  budget: number,
  examples: () => number,
  emit: Emit,
): Promise<TokenizedFile | undefined> {
  const state: TokenizeState = { tokenizer, builder, ids: scratch.ids, ends: scratch.ends, keeping: budget > 0, budget, emit };
  state.ids.clear();
  state.ends.clear();
  const stepBytes: number[] = [];
  const stepSentences: number[] = [];
  // Progress counts the file's bytes as they are read (compressed ones for .jsonl.zst), so a job's
  // passes add up to its files' sizes × dupe factor, the total the bar is drawn against.
  let read = 0;
  let reported = 0;
  const step = (sentences: number): void => {
    const bytes = read - reported;
    reported = read;
    stepBytes.push(bytes);
    stepSentences.push(sentences);
    options.onProgress?.(bytes, examples());
  };
  for await (const texts of readCorpusTexts(file, { onRead: (bytes) => (read += bytes) })) {
    options.signal?.throwIfAborted();
    await tokenizeBatch(texts, state);
    step(texts.length);
  }
  if (read > reported) step(0); // bytes after the last sentence (a final line break, say)
  if (!state.keeping) return undefined;
  return { ids: state.ids.toArray(), ends: state.ends.toArray(), bytes: Float64Array.from(stepBytes), steps: Int32Array.from(stepSentences) };
}

interface TokenizeState {
  readonly tokenizer: WordPieceTokenizer;
  readonly builder: ExampleBuilder;
  readonly ids: IdBuffer;
  readonly ends: IdBuffer;
  /** Whether the file's ids are still kept for later passes (false once past `budget` bytes). */
  keeping: boolean;
  readonly budget: number;
  readonly emit: Emit;
}

/** One read batch of sentences into the builder. */
async function tokenizeBatch(texts: readonly string[], state: TokenizeState): Promise<void> {
  const { tokenizer, builder, ids, ends } = state;
  for (const text of texts) {
    if (!state.keeping) ids.clear();
    const start = ids.length;
    tokenizer.encodeInto(text, ids);
    const built = builder.addSentence(ids.data, start, ids.length);
    if (state.keeping) {
      ends.push(ids.length);
      if (4 * (ids.length + ends.length) > state.budget) {
        state.keeping = false;
        ids.release(SCRATCH_IDS);
        ends.release(SCRATCH_IDS / 8);
      }
    }
    if (built.length > 0) await state.emit(built);
  }
}

/** Feeds a tokenized file to the builder again, sentence for sentence as `tokenizeAndBuild` did. */
async function replay(file: TokenizedFile, builder: ExampleBuilder, options: JobOptions, examples: () => number, emit: Emit): Promise<void> {
  let sentence = 0;
  for (let step = 0; step < file.steps.length; step++) {
    options.signal?.throwIfAborted();
    const last = sentence + file.steps[step];
    await replayStep(file, sentence, last, builder, emit);
    sentence = last;
    options.onProgress?.(file.bytes[step], examples());
  }
}

/** Sentences `[first, last)` of a tokenized file into the builder. */
async function replayStep(file: TokenizedFile, first: number, last: number, builder: ExampleBuilder, emit: Emit): Promise<void> {
  let start = first === 0 ? 0 : file.ends[first - 1];
  for (let sentence = first; sentence < last; sentence++) {
    const end = file.ends[sentence];
    const built = builder.addSentence(file.ids, start, end);
    start = end;
    if (built.length > 0) await emit(built);
  }
}
