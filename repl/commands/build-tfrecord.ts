import { type BuildManifest, buildPretrainingData } from '../../lib/pretraining/index.js';
import { formatBytes, table } from '../format.js';
import type { CommandIo, ProgressReporter } from '../io/command-io.js';
import { defineCommand, type FlagDefinition } from '../registry/command-definition.js';

export interface BuildTfrecordFlags {
  readonly input_dir: string;
  readonly tokenizer_dir: string;
  readonly output_dir: string;
  readonly max_seq_length: number;
  readonly max_predictions_per_seq: number;
  readonly num_processes: number;
  readonly sentence_pair_prob: number;
  readonly short_seq_prob: number;
  readonly do_whole_word_mask?: boolean;
  readonly max_ngram_size?: number;
  readonly dupe_factor: number;
  readonly masked_lm_prob: number;
  readonly seed: number;
  readonly long_seq_threshold: number;
  readonly num_shards: number;
  readonly overwrite?: boolean;
  readonly token_cache_mb: number;
  readonly debug?: boolean;
}

/** The reference's flags, same names and defaults, plus --num_shards, --overwrite and --token_cache_mb. */
export const buildFlags: readonly FlagDefinition[] = [
  { name: 'input_dir', type: 'path', value: 'dir', required: true, description: 'corpus folder, searched recursively for *.txt and *.jsonl.zst' },
  { name: 'tokenizer_dir', type: 'path', value: 'dir', required: true, description: 'Hugging Face tokenizer folder' },
  { name: 'output_dir', type: 'path', value: 'dir', required: true, description: 'where the shards go (must be empty or new unless --overwrite)' },
  { name: 'max_seq_length', type: 'int', value: 'n', default: 512, description: 'tokens per example, [CLS]/[SEP] included' },
  { name: 'max_predictions_per_seq', type: 'int', value: 'n', default: 76, description: 'cap on masked positions per example' },
  { name: 'num_processes', type: 'int', value: 'n', default: 0, description: 'worker threads; 0 = one per CPU (set it for reproducible output)' },
  { name: 'sentence_pair_prob', type: 'float', value: 'p', default: 0.05, description: 'probability of a two-segment example' },
  { name: 'short_seq_prob', type: 'float', value: 'p', default: 0.01, description: 'probability that the next target length is random' },
  { name: 'do_whole_word_mask', type: 'boolean', description: 'mask whole words instead of single word pieces' },
  { name: 'max_ngram_size', type: 'int', value: 'n', description: 'mask up to n contiguous whole words together (needs --do_whole_word_mask)' },
  { name: 'dupe_factor', type: 'int', value: 'n', default: 2, description: 'passes over the data, each with fresh masks' },
  { name: 'masked_lm_prob', type: 'float', value: 'p', default: 0.15, description: 'fraction of tokens to predict' },
  { name: 'seed', type: 'int', value: 'n', default: 12345, description: 'base seed; worker j uses seed + j' },
  { name: 'long_seq_threshold', type: 'float', value: 'x', default: 1.8, description: 'buffers of at least int(max_seq_length × x) tokens are cut into chunks' },
  { name: 'num_shards', type: 'int', value: 'n', default: 1000, description: 'output shards (the reference always writes 1000)' },
  { name: 'overwrite', type: 'boolean', description: 'replace earlier build output in --output_dir' },
  { name: 'token_cache_mb', type: 'float', value: 'n', default: 1024, description: 'memory (all workers) for token ids kept from pass 1 for the other dupe passes; 0 = tokenize every pass' },
  { name: 'debug', type: 'boolean', hidden: true, description: 'accepted for compatibility with the reference script' },
];

/** Runs the build with a progress display; Ctrl-C (the io's signal) cancels it and leaves no output. */
export async function runBuild(flags: BuildTfrecordFlags, io: CommandIo): Promise<BuildManifest> {
  let progress: ProgressReporter | undefined;
  let total = 0;
  try {
    const manifest = await buildPretrainingData({
      inputDir: flags.input_dir,
      tokenizerDir: flags.tokenizer_dir,
      outputDir: flags.output_dir,
      maxSeqLength: flags.max_seq_length,
      maxPredictionsPerSeq: flags.max_predictions_per_seq,
      numProcesses: flags.num_processes,
      sentencePairProb: flags.sentence_pair_prob,
      shortSeqProb: flags.short_seq_prob,
      doWholeWordMask: flags.do_whole_word_mask ?? false,
      maxNgramSize: flags.max_ngram_size,
      dupeFactor: flags.dupe_factor,
      maskedLmProb: flags.masked_lm_prob,
      seed: flags.seed,
      longSeqThreshold: flags.long_seq_threshold,
      numShards: flags.num_shards,
      overwrite: flags.overwrite ?? false,
      tokenCacheMb: flags.token_cache_mb,
      signal: io.signal,
      onProgress: ({ bytes, totalBytes, examples }) => {
        total = totalBytes;
        progress ??= io.progress({ label: 'building', total: totalBytes, unit: 'bytes', extra: ['examples'] });
        progress.update(Math.min(bytes, totalBytes), { examples });
      },
    });
    // Every file byte of every pass has been counted by now; this carries the final example count.
    progress?.update(total, { examples: manifest.totals.examples });
    return manifest;
  } finally {
    progress?.stop();
  }
}

/** A plain-text summary of a build manifest. */
export function describeBuild(manifest: BuildManifest): string {
  const s = manifest.statistics;
  const pct = (n: number): string => (s.predictions ? `${((100 * n) / s.predictions).toFixed(1)}%` : '–');
  const inputBytes = manifest.input_files.reduce((n, f) => n + f.bytes, 0);
  return [
    `read      ${manifest.input_files.length} files, ${formatBytes(inputBytes)} × ${manifest.flags.dupe_factor} passes, ${manifest.jobs.length} worker(s)`,
    `wrote     ${manifest.totals.examples.toLocaleString('en-US')} examples into ${manifest.totals.nonempty_shards} of ${manifest.totals.shards} shards in ${manifest.flags.output_dir} (${manifest.totals.seconds.toFixed(2)} s)`,
    `tokens    ${s.tokens_per_example.toFixed(1)} per example of ${manifest.flags.max_seq_length}, ${(100 * s.padding_fraction).toFixed(1)}% padding, ${s.twoSegmentExamples} two-segment examples`,
    `masking   ${s.predictions.toLocaleString('en-US')} predictions: [MASK] ${pct(s.masked)}, kept ${pct(s.kept)}, random ${pct(s.replaced)}`,
    table(
      ['n-gram', 'spans'],
      s.gramsByLength.map((count, size) => [size, count] as [number, number]).filter(([size]) => size > 0),
    ),
    s.unmaskableExamples ? `skipped   ${s.unmaskableExamples} examples with nothing maskable (the reference crashes on these)` : '',
    `manifest  ${manifest.flags.output_dir}/build_manifest.json`,
  ]
    .filter(Boolean)
    .join('\n');
}

export const buildTfrecordCommand = defineCommand<BuildTfrecordFlags>({
  path: ['build-tfrecord'],
  description: "build masked pretraining examples as TFRecord shards, seed for seed equal to KoBigBird's create_pretraining_data.py",
  flags: buildFlags,
  async run(flags, io) {
    io.text(describeBuild(await runBuild(flags, io)));
  },
});
