import { readCorpusFile } from '../corpus/read-corpus.js';
import { encodeExample } from '../tfrecord/example.js';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';
import { builderVocab } from './builder-vocab.js';
import { addExample, type BuildStats, emptyStats } from './build-stats.js';
import { ExampleBuilder, type PackingConfig, type PretrainingExample } from './example-builder.js';
import { toTfExample } from './features.js';
import { PyRandom } from './py-random.js';
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
}

export interface JobResult {
  readonly job: number;
  readonly seed: number;
  readonly fileOrder: string[];
  readonly examples: number;
  readonly shardCounts: Map<number, number>;
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
  const emit = async (built: PretrainingExample[], file: string, pass: number): Promise<void> => {
    for (const example of built) {
      const shard = await writers.write(encodeExample(toTfExample(example)));
      examples++;
      addExample(stats, example, vocab.maskId);
      options.onExample?.(example, { shard, file, pass });
    }
  };
  try {
    for (let pass = 0; pass < options.dupeFactor; pass++) {
      for (const file of fileOrder) {
        for await (const batch of readCorpusFile(file)) {
          let bytes = 0;
          for (const sentence of batch.sentences) {
            bytes += Buffer.byteLength(sentence.text);
            const built = builder.addSentence(tokenizer.encode(sentence.text));
            if (built.length > 0) await emit(built, file, pass);
          }
          options.onProgress?.(bytes, examples);
        }
        await emit(builder.flush(), file, pass);
      }
    }
    await writers.close();
  } catch (error) {
    await writers.abort();
    throw error;
  }
  stats.unmaskableExamples = builder.unmaskableExamples;
  return { job: options.job, seed, fileOrder, examples, shardCounts: writers.counts, stats };
}
