import { BUILD_DEFAULTS, type BuildOptions } from '../../lib/pretraining/index.js';
import { buildWithProgress } from '../io/build-with-progress.js';
import { defineCommand, type FlagDefinition, type ParsedArgs } from '../registry/command-definition.js';
import { describeBuild } from '../views/build-summary.js';

/** The reference's flags, same names and defaults, plus --num_shards, --overwrite and --token_cache_mb. */
const buildFlags = [
  { name: 'input_dir', type: 'path', value: 'dir', required: true, description: 'corpus folder, searched recursively for *.txt and *.jsonl.zst' },
  { name: 'tokenizer_dir', type: 'path', value: 'dir', required: true, description: 'Hugging Face tokenizer folder' },
  { name: 'output_dir', type: 'path', value: 'dir', required: true, description: 'where the shards go (must be empty or new unless --overwrite)' },
  { name: 'max_seq_length', type: 'int', value: 'n', default: BUILD_DEFAULTS.maxSeqLength, description: 'tokens per example, [CLS]/[SEP] included' },
  {
    name: 'max_predictions_per_seq',
    type: 'int',
    value: 'n',
    default: BUILD_DEFAULTS.maxPredictionsPerSeq,
    description: 'cap on masked positions per example',
  },
  {
    name: 'num_processes',
    type: 'int',
    value: 'n',
    default: BUILD_DEFAULTS.numProcesses,
    description: 'worker threads; 0 = one per CPU (set it for reproducible output)',
  },
  { name: 'sentence_pair_prob', type: 'float', value: 'p', default: BUILD_DEFAULTS.sentencePairProb, description: 'probability of a two-segment example' },
  { name: 'short_seq_prob', type: 'float', value: 'p', default: BUILD_DEFAULTS.shortSeqProb, description: 'probability that the next target length is random' },
  { name: 'do_whole_word_mask', type: 'boolean', description: 'mask whole words instead of single word pieces' },
  { name: 'max_ngram_size', type: 'int', value: 'n', description: 'mask up to n contiguous whole words together (needs --do_whole_word_mask)' },
  { name: 'dupe_factor', type: 'int', value: 'n', default: BUILD_DEFAULTS.dupeFactor, description: 'passes over the data, each with fresh masks' },
  { name: 'masked_lm_prob', type: 'float', value: 'p', default: BUILD_DEFAULTS.maskedLmProb, description: 'fraction of tokens to predict' },
  { name: 'seed', type: 'int', value: 'n', default: BUILD_DEFAULTS.seed, description: 'base seed; worker j uses seed + j' },
  {
    name: 'long_seq_threshold',
    type: 'float',
    value: 'x',
    default: BUILD_DEFAULTS.longSeqThreshold,
    description: 'buffers of at least int(max_seq_length × x) tokens are cut into chunks',
  },
  { name: 'num_shards', type: 'int', value: 'n', default: BUILD_DEFAULTS.numShards, description: 'output shards (the reference always writes 1000)' },
  { name: 'overwrite', type: 'boolean', description: 'replace earlier build output in --output_dir' },
  {
    name: 'token_cache_mb',
    type: 'float',
    value: 'n',
    default: BUILD_DEFAULTS.tokenCacheMb,
    description: 'memory (all workers) for token ids kept from pass 1 for the other dupe passes; 0 = tokenize every pass',
  },
  { name: 'debug', type: 'boolean', hidden: true, description: 'accepted for compatibility with the reference script' },
] as const satisfies readonly FlagDefinition[];

/** The flags as the library's build options. */
function buildOptions(flags: ParsedArgs<typeof buildFlags, readonly []>): BuildOptions {
  return {
    inputDir: flags.input_dir,
    tokenizerDir: flags.tokenizer_dir,
    outputDir: flags.output_dir,
    maxSeqLength: flags.max_seq_length,
    maxPredictionsPerSeq: flags.max_predictions_per_seq,
    numProcesses: flags.num_processes,
    sentencePairProb: flags.sentence_pair_prob,
    shortSeqProb: flags.short_seq_prob,
    doWholeWordMask: flags.do_whole_word_mask ?? BUILD_DEFAULTS.doWholeWordMask,
    maxNgramSize: flags.max_ngram_size,
    dupeFactor: flags.dupe_factor,
    maskedLmProb: flags.masked_lm_prob,
    seed: flags.seed,
    longSeqThreshold: flags.long_seq_threshold,
    numShards: flags.num_shards,
    overwrite: flags.overwrite ?? BUILD_DEFAULTS.overwrite,
    tokenCacheMb: flags.token_cache_mb,
  };
}

export const buildTfrecordCommand = defineCommand({
  path: ['build-tfrecord'],
  description: "build masked pretraining examples as TFRecord shards, seed for seed equal to KoBigBird's create_pretraining_data.py",
  flags: buildFlags,
  async run(flags, io) {
    io.text(describeBuild(await buildWithProgress(buildOptions(flags), io)));
  },
});
