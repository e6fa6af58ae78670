import { Command, Option } from 'commander';
import { buildPretrainingData } from '../../lib/pretraining/index.js';
import { formatBytes, table } from '../format.js';
import { byteProgress } from '../progress.js';

const int = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`expected an integer, got ${JSON.stringify(value)}`);
  return n;
};
const float = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(value)}`);
  return n;
};

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
export function addBuildFlags(command: Command): Command {
  return command
    .requiredOption('--input_dir <dir>', 'corpus folder, searched recursively for *.txt and *.jsonl.zst')
    .requiredOption('--tokenizer_dir <dir>', 'Hugging Face tokenizer folder')
    .requiredOption('--output_dir <dir>', 'where the shards go (must be empty or new unless --overwrite)')
    .option('--max_seq_length <n>', 'tokens per example, [CLS]/[SEP] included', int, 512)
    .option('--max_predictions_per_seq <n>', 'cap on masked positions per example', int, 76)
    .option('--num_processes <n>', 'worker threads; 0 = one per CPU (set it for reproducible output)', int, 0)
    .option('--sentence_pair_prob <p>', 'probability of a two-segment example', float, 0.05)
    .option('--short_seq_prob <p>', 'probability that the next target length is random', float, 0.01)
    .option('--do_whole_word_mask', 'mask whole words instead of single word pieces')
    .option('--max_ngram_size <n>', 'mask up to n contiguous whole words together (needs --do_whole_word_mask)', int)
    .option('--dupe_factor <n>', 'passes over the data, each with fresh masks', int, 2)
    .option('--masked_lm_prob <p>', 'fraction of tokens to predict', float, 0.15)
    .option('--seed <n>', 'base seed; worker j uses seed + j', int, 12345)
    .option('--long_seq_threshold <x>', 'buffers of at least int(max_seq_length × x) tokens are cut into chunks', float, 1.8)
    .option('--num_shards <n>', 'output shards (the reference always writes 1000)', int, 1000)
    .option('--overwrite', 'replace earlier build output in --output_dir')
    .option('--token_cache_mb <n>', 'memory (all workers) for token ids kept from pass 1 for the other dupe passes; 0 = tokenize every pass', float, 1024)
    .addOption(new Option('--debug', 'accepted for compatibility with the reference script').hideHelp());
}

/** Runs the build with a progress bar on stderr; returns the manifest. */
export async function runBuild(flags: BuildTfrecordFlags): Promise<Awaited<ReturnType<typeof buildPretrainingData>>> {
  let progress: ReturnType<typeof byteProgress> | undefined;
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
    onProgress: ({ bytes, totalBytes, examples }) => {
      progress ??= byteProgress('building', totalBytes, { extra: ' | {examples} examples' });
      progress.update(Math.min(bytes, totalBytes), { examples });
    },
  });
  progress?.stop();
  return manifest;
}

/** A plain-text summary of a build manifest. */
export function describeBuild(manifest: Awaited<ReturnType<typeof buildPretrainingData>>): string {
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

export function buildTfrecordCommand(): Command {
  return addBuildFlags(new Command('build-tfrecord').description('build masked pretraining examples as TFRecord shards, seed for seed equal to KoBigBird\'s create_pretraining_data.py')).action(
    async (flags: BuildTfrecordFlags) => {
      process.stdout.write(`${describeBuild(await runBuild(flags))}\n`);
    },
  );
}
