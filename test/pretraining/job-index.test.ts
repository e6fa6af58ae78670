import { describe, expect, it } from 'vitest';
import { BUILD_DEFAULTS, buildFinishCommandLine, buildJobCommandLine, resolveJobIndex } from '../../lib/pretraining/index.js';

describe('which job a task of a multi-machine build runs', () => {
  it('--job_index wins; else the first of JOB_COMPLETION_INDEX, BATCH_TASK_INDEX, CLOUD_RUN_TASK_INDEX that is set; else none', () => {
    expect(resolveJobIndex({ jobIndex: 2, numProcesses: 4, env: { JOB_COMPLETION_INDEX: '1' } })).toEqual({ index: 2, source: '--job_index' });
    expect(resolveJobIndex({ numProcesses: 4, env: { JOB_COMPLETION_INDEX: '3' } })).toEqual({ index: 3, source: 'JOB_COMPLETION_INDEX' });
    expect(resolveJobIndex({ numProcesses: 4, env: { BATCH_TASK_INDEX: '0', BATCH_TASK_COUNT: '4' } })).toEqual({ index: 0, source: 'BATCH_TASK_INDEX' });
    expect(resolveJobIndex({ numProcesses: 4, env: { CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_TASK_COUNT: '4' } })).toEqual({
      index: 1,
      source: 'CLOUD_RUN_TASK_INDEX',
    });
    expect(resolveJobIndex({ numProcesses: 4, env: { JOB_COMPLETION_INDEX: '2', BATCH_TASK_INDEX: '2' } })).toEqual({
      index: 2,
      source: 'JOB_COMPLETION_INDEX',
    });
    expect(resolveJobIndex({ numProcesses: 4, env: {} })).toBeUndefined();
    expect(resolveJobIndex({ numProcesses: 0, env: { JOB_COMPLETION_INDEX: '' } })).toBeUndefined();
  });

  it('refuses what cannot be one job of the build, in one line naming where the index came from', () => {
    expect(() => resolveJobIndex({ numProcesses: 4, env: { JOB_COMPLETION_INDEX: 'x1' } })).toThrow(
      'JOB_COMPLETION_INDEX="x1" is not a job index (0, 1, 2, …)',
    );
    expect(() => resolveJobIndex({ numProcesses: 4, env: { JOB_COMPLETION_INDEX: '4' } })).toThrow(
      'JOB_COMPLETION_INDEX=4 is not a job of --num_processes 4 (0 to 3)',
    );
    expect(() => resolveJobIndex({ jobIndex: -1, numProcesses: 4, env: {} })).toThrow('--job_index -1 is not a job of --num_processes 4 (0 to 3)');
    expect(() => resolveJobIndex({ numProcesses: 0, env: { BATCH_TASK_INDEX: '1' } })).toThrow(
      'BATCH_TASK_INDEX=1 needs --num_processes P, the number of jobs',
    );
    expect(() => resolveJobIndex({ numProcesses: 4, env: { JOB_COMPLETION_INDEX: '1', CLOUD_RUN_TASK_INDEX: '2' } })).toThrow(
      'JOB_COMPLETION_INDEX=1 and CLOUD_RUN_TASK_INDEX=2 disagree',
    );
    expect(() => resolveJobIndex({ numProcesses: 8, env: { CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' } })).toThrow(
      'CLOUD_RUN_TASK_COUNT is 1 but --num_processes is 8: each task runs one job, so the build needs exactly 8 tasks',
    );
  });
});

describe('the command line of a task', () => {
  it('writes every build flag out, defaults too, and no --job_index', () => {
    const argv = buildJobCommandLine({
      inputDir: 'gs://b/corpus',
      tokenizerDir: 'gs://b/tokenizer',
      outputDir: 'gs://b/out',
      numProcesses: 8,
      doWholeWordMask: true,
      maxNgramSize: 2,
      maxSeqLength: 4096,
    });
    expect(argv).toEqual([
      'kbb',
      'build-tfrecord',
      '--input_dir',
      'gs://b/corpus',
      '--tokenizer_dir',
      'gs://b/tokenizer',
      '--output_dir',
      'gs://b/out',
      '--max_seq_length',
      '4096',
      '--max_predictions_per_seq',
      String(BUILD_DEFAULTS.maxPredictionsPerSeq),
      '--num_processes',
      '8',
      '--sentence_pair_prob',
      String(BUILD_DEFAULTS.sentencePairProb),
      '--short_seq_prob',
      String(BUILD_DEFAULTS.shortSeqProb),
      '--do_whole_word_mask=true',
      '--max_ngram_size',
      '2',
      '--dupe_factor',
      String(BUILD_DEFAULTS.dupeFactor),
      '--masked_lm_prob',
      String(BUILD_DEFAULTS.maskedLmProb),
      '--seed',
      String(BUILD_DEFAULTS.seed),
      '--long_seq_threshold',
      String(BUILD_DEFAULTS.longSeqThreshold),
      '--num_shards',
      String(BUILD_DEFAULTS.numShards),
      '--token_cache_mb',
      String(BUILD_DEFAULTS.tokenCacheMb),
    ]);
    expect(buildJobCommandLine({ inputDir: 'i', tokenizerDir: 't', outputDir: 'o', numProcesses: 2, overwrite: true })).toContain('--overwrite');
    expect(() => buildJobCommandLine({ inputDir: 'i', tokenizerDir: 't', outputDir: 'o', numProcesses: 0 })).toThrow('needs numProcesses');
    expect(buildFinishCommandLine('gs://b/out')).toEqual(['kbb', 'build-tfrecord', '--finish', '--output_dir', 'gs://b/out']);
  });
});
