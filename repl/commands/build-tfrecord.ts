import { BUILD_JOB_DEFAULTS, BUILD_JOB_KINDS, type BuildJobKind, buildJobNextSteps, emitBuildJob } from '../../lib/cloud/index.js';
import { writeFileAt } from '../../lib/fs/index.js';
import {
  BUILD_DEFAULTS,
  BuildError,
  type BuildOptions,
  buildFinishCommandLine,
  finishBuild,
  isJobManifest,
  type JobIndex,
  type JobManifest,
  jobManifestFileName,
  resolveJobIndex,
  validateBuildOptions,
} from '../../lib/pretraining/index.js';
import { buildWithProgress } from '../io/build-with-progress.js';
import type { CommandIo } from '../io/command-io.js';
import { defineCommand, type FlagDefinition, type ParsedArgs } from '../registry/command-definition.js';
import { describeBuild } from '../views/build-summary.js';

/** The reference's flags, same names and defaults, plus --num_shards, --overwrite, --token_cache_mb, and --job_index and --finish for builds on many machines. */
const buildFlags = [
  {
    name: 'input_dir',
    type: 'path',
    value: 'dir',
    description: 'corpus folder (or gs://bucket/prefix), searched recursively for *.txt and *.jsonl.zst (required unless --finish)',
  },
  { name: 'tokenizer_dir', type: 'path', value: 'dir', description: 'Hugging Face tokenizer folder, local or gs:// (required unless --finish)' },
  {
    name: 'output_dir',
    type: 'path',
    value: 'dir',
    required: true,
    description: 'where the shards go, local or gs:// (must be empty or new unless --overwrite)',
  },
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
    description: 'jobs: worker threads, or machines with --job_index; 0 = one per CPU (set it for reproducible output)',
  },
  {
    name: 'job_index',
    type: 'int',
    value: 'k',
    description:
      'run only job k of --num_processes (one machine of many): its files and shards, and its job manifest; default: JOB_COMPLETION_INDEX, BATCH_TASK_INDEX or CLOUD_RUN_TASK_INDEX when set',
  },
  {
    name: 'finish',
    type: 'boolean',
    description: `after every job has run: check their shards and merge their manifests into build_manifest.json (needs only --output_dir)`,
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
  {
    name: 'emit_job',
    type: 'string',
    value: 'k8s|batch',
    description:
      'instead of building: write a Kubernetes Indexed Job or a Cloud Batch job running the --num_processes jobs of this build on that many machines',
  },
  { name: 'image', type: 'string', value: 'uri', description: 'with --emit_job: the container image with kbb (see the Dockerfile)' },
  { name: 'parallelism', type: 'int', value: 'n', description: 'with --emit_job: machines at once (default: all)' },
  { name: 'job_name', type: 'string', value: 'name', default: BUILD_JOB_DEFAULTS.name, description: 'with --emit_job: the job’s name' },
  { name: 'service_account', type: 'string', value: 'name', description: 'with --emit_job: the account the machines run as (bucket access)' },
  {
    name: 'job_file',
    type: 'path',
    value: 'file',
    description: `with --emit_job: where the job goes (default ${Object.values(BUILD_JOB_DEFAULTS.file).join(' or ')})`,
  },
] as const satisfies readonly FlagDefinition[];

type BuildFlags = ParsedArgs<typeof buildFlags, readonly []>;

/** The flags as the library's build options. */
function buildOptions(flags: BuildFlags, job: JobIndex | undefined): BuildOptions {
  const required = (name: 'input_dir' | 'tokenizer_dir'): string => {
    const value = flags[name];
    if (value === undefined) throw new BuildError(`--${name} is required (only --finish goes without it)`);
    return value;
  };
  return {
    inputDir: required('input_dir'),
    tokenizerDir: required('tokenizer_dir'),
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
    jobIndex: job?.index,
  };
}

/** What one job of a multi-machine build did, and what comes next. */
function describeJob(manifest: JobManifest, job: JobIndex): string {
  const { index, of } = manifest.job;
  const outputDir = String(manifest.flags.output_dir);
  return [
    `job       ${index} of ${of}${job.source === '--job_index' ? '' : ` (from ${job.source})`}: ${manifest.input_files.length} of ${manifest.input_listing.files} files × ${manifest.flags.dupe_factor} passes`,
    `wrote     ${manifest.totals.examples.toLocaleString('en-US')} examples into its ${manifest.totals.nonempty_shards} of ${manifest.totals.shards} shards in ${outputDir} (${manifest.totals.seconds.toFixed(2)} s)`,
    `manifest  ${outputDir}/${jobManifestFileName(index, of)}`,
    `when all ${of} jobs are done: ${buildFinishCommandLine(outputDir).join(' ')}`,
  ].join('\n');
}

/** `--emit_job`: the build's jobs as a Kubernetes Indexed Job or a Cloud Batch job, written to a file, and what to run next. */
async function emitJob(flags: BuildFlags, io: CommandIo): Promise<void> {
  const kind = flags.emit_job as BuildJobKind;
  if (!BUILD_JOB_KINDS.includes(kind)) throw new BuildError(`--emit_job ${flags.emit_job}: expected one of ${BUILD_JOB_KINDS.join(', ')}`);
  if (flags.job_index !== undefined) throw new BuildError('--emit_job writes a job for every index; it takes no --job_index');
  if (flags.image === undefined) throw new BuildError('--emit_job needs --image, a container image with kbb (see the Dockerfile)');
  const { jobIndex: _, ...build } = buildOptions(flags, undefined);
  validateBuildOptions(build);
  const options = {
    build: { ...build, numProcesses: flags.num_processes },
    image: flags.image,
    parallelism: flags.parallelism,
    name: flags.job_name,
    serviceAccount: flags.service_account,
  };
  const file = flags.job_file ?? BUILD_JOB_DEFAULTS.file[kind];
  await writeFileAt(file, await emitBuildJob(kind, options, file));
  io.text([`wrote     ${file}: ${flags.num_processes} tasks of kbb build-tfrecord`, ...buildJobNextSteps(kind, options, file)].join('\n'));
}

export const buildTfrecordCommand = defineCommand({
  path: ['build-tfrecord'],
  description: "build masked pretraining examples as TFRecord shards, seed for seed equal to KoBigBird's create_pretraining_data.py",
  flags: buildFlags,
  async run(flags, io) {
    if (flags.finish) {
      if (flags.job_index !== undefined) throw new BuildError('--finish merges the jobs once all have run; it takes no --job_index');
      io.text(describeBuild(await finishBuild(flags.output_dir)));
      return;
    }
    if (flags.emit_job !== undefined) return emitJob(flags, io);
    const job = resolveJobIndex({ jobIndex: flags.job_index, numProcesses: flags.num_processes });
    const manifest = await buildWithProgress(buildOptions(flags, job), io);
    io.text(job && isJobManifest(manifest) ? describeJob(manifest, job) : describeBuild(manifest));
  },
});
