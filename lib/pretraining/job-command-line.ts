import { BUILD_DEFAULTS } from './build-defaults.js';
import type { BuildOptions } from './build-pretraining-data.js';

/** A multi-machine build's settings: the build's own, `numProcesses` the number of jobs (machines). */
export type BuildJobSettings = Omit<BuildOptions, 'jobIndex' | 'inProcess' | 'onProgress' | 'signal' | 'numProcesses'> & {
  /** The number of jobs: one per machine (task) of the batch system. */
  readonly numProcesses: number;
};

/** The command every machine runs. */
const COMMAND = ['kbb', 'build-tfrecord'] as const;

/**
 * The command line each task of a multi-machine build runs, as argv: `kbb build-tfrecord` with every
 * build flag written out (defaults too, so that every machine builds the same thing whatever kbb's
 * defaults), and without `--job_index`: each task reads its index from the batch system's variable
 * (JOB_COMPLETION_INDEX, BATCH_TASK_INDEX, CLOUD_RUN_TASK_INDEX). When all tasks are done,
 * `buildFinishCommandLine` merges their manifests.
 */
export function buildJobCommandLine(settings: BuildJobSettings): string[] {
  if (!(Number.isInteger(settings.numProcesses) && settings.numProcesses > 0))
    throw new Error(`a multi-machine build needs numProcesses, the number of jobs, a positive integer (got ${settings.numProcesses})`);
  const flag = (name: string, value: string | number): string[] => [`--${name}`, String(value)];
  return [
    ...COMMAND,
    ...flag('input_dir', settings.inputDir),
    ...flag('tokenizer_dir', settings.tokenizerDir),
    ...flag('output_dir', settings.outputDir),
    ...flag('max_seq_length', settings.maxSeqLength ?? BUILD_DEFAULTS.maxSeqLength),
    ...flag('max_predictions_per_seq', settings.maxPredictionsPerSeq ?? BUILD_DEFAULTS.maxPredictionsPerSeq),
    ...flag('num_processes', settings.numProcesses),
    ...flag('sentence_pair_prob', settings.sentencePairProb ?? BUILD_DEFAULTS.sentencePairProb),
    ...flag('short_seq_prob', settings.shortSeqProb ?? BUILD_DEFAULTS.shortSeqProb),
    `--do_whole_word_mask=${settings.doWholeWordMask ?? BUILD_DEFAULTS.doWholeWordMask}`,
    ...(settings.maxNgramSize === undefined ? [] : flag('max_ngram_size', settings.maxNgramSize)),
    ...flag('dupe_factor', settings.dupeFactor ?? BUILD_DEFAULTS.dupeFactor),
    ...flag('masked_lm_prob', settings.maskedLmProb ?? BUILD_DEFAULTS.maskedLmProb),
    ...flag('seed', settings.seed ?? BUILD_DEFAULTS.seed),
    ...flag('long_seq_threshold', settings.longSeqThreshold ?? BUILD_DEFAULTS.longSeqThreshold),
    ...flag('num_shards', settings.numShards ?? BUILD_DEFAULTS.numShards),
    ...flag('token_cache_mb', settings.tokenCacheMb ?? BUILD_DEFAULTS.tokenCacheMb),
    ...((settings.overwrite ?? BUILD_DEFAULTS.overwrite) ? ['--overwrite'] : []),
  ];
}

/** The command line that merges the job manifests once every task is done: `kbb build-tfrecord --finish --output_dir D`. */
export const buildFinishCommandLine = (outputDir: string): string[] => [...COMMAND, '--finish', '--output_dir', outputDir];
