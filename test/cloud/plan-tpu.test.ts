import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigBirdVariables, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { planTpu, REFERENCE_TRAINER, readTpuPlan, stage, TPU_PLAN_FILES } from '../../lib/cloud/index.js';
import { fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../../lib/pretraining/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { SAMPLE_TRAIN_FLAGS, type TrainFlags } from '../../lib/train/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

/** `kbb tpu plan` end to end on the sample build, a small BERT and the sample tokenizer: on this disk, then in a bucket. */

const root = mkdtempSync(join(tmpdir(), 'kbb-plan-tpu-'));
const dataDir = join(root, 'data');
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');
const initCheckpoint = join(root, 'bert', 'bert_model.ckpt');

/** The sample model's sizes, trained on a v3-8. */
const run = (more: Partial<TrainFlags>): Partial<TrainFlags> => ({
  ...SAMPLE_TRAIN_FLAGS,
  tpu_name: 'kbb-sample',
  tpu_zone: 'europe-west4-a',
  gcp_project: 'my-project',
  ...more,
});

beforeAll(async () => {
  await buildPretrainingData({ ...SAMPLE_BUILD_SETTINGS, inputDir: join(projectRoot, 'data', 'sample-corpus'), tokenizerDir, outputDir: dataDir });
  // A BERT of the sample model's sizes over the sample vocabulary: BERT's LayerNorm name, 512 positions, the step.
  const sizes = { vocab_size: 3000, hidden_size: 32, num_hidden_layers: 2, intermediate_size: 64, max_position_embeddings: 512, type_vocab_size: 2 };
  const tensors: TensorToWrite[] = bigBirdVariables(sizes).map((v) => ({
    name: v.name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm'),
    dtype: 'float32',
    shape: v.shape,
    data: new Uint8Array(elementCount(v.shape) * 4),
  }));
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(8) });
  await writeCheckpoint(
    initCheckpoint,
    tensors.sort((a, b) => (a.name < b.name ? -1 : 1)),
  );
}, 120_000);
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
});

describe('kbb tpu plan reads what it checks', () => {
  it('on this disk: everything fits but the paths, which a TPU VM cannot read; nothing is written', async () => {
    const planDir = join(root, 'local-plan');
    const result = await planTpu(run({ data_dir: dataDir, output_dir: join(root, 'out'), tokenizer_dir: tokenizerDir, init_checkpoint: initCheckpoint }), {
      plan_dir: planDir,
    });
    expect(result.problems).toEqual([
      `--data_dir ${dataDir} is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)`,
      `--output_dir ${join(root, 'out')} is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)`,
      `--tokenizer_dir ${tokenizerDir} is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)`,
      `--init_checkpoint ${initCheckpoint} is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)`,
    ]);
    // What was read: the first record of the first and last shard, the manifest, the tokenizer, the checkpoint.
    const { data, tokenizer, checkpoint } = result.inputs;
    expect(data?.files.length).toBe(SAMPLE_BUILD_SETTINGS.numShards);
    expect(data?.records.map((r) => [r.length, r.slots])).toEqual([
      [128, 20],
      [128, 20],
    ]);
    expect(data?.manifest).toMatchObject({ maxSeqLength: 128, maxPredictionsPerSeq: 20, vocabSize: 3000 });
    expect(tokenizer?.vocabSize).toBe(3000);
    expect(checkpoint?.variables.find((v) => v.name === 'bert/embeddings/word_embeddings')?.shape).toEqual([3000, 32]);
    expect(result.plan).toBeUndefined();
    expect(await fileSystemFor(planDir).stat(planDir)).toBeUndefined();
  });

  it('on this disk: a build of another length and a tokenizer of another size are named, with both values', async () => {
    const result = await planTpu(
      run({ data_dir: dataDir, tokenizer_dir: tokenizerDir, init_checkpoint: initCheckpoint, max_encoder_length: 256, max_position_embeddings: 256 }),
    );
    const shards = result.inputs.data!.files;
    expect(result.problems.filter((p) => !p.includes('is not in a bucket'))).toEqual([
      `${shards[0]} record 0: 128 tokens, but --max_encoder_length is 256`,
      `${shards.at(-1)} record 0: 128 tokens, but --max_encoder_length is 256`,
      `${dataDir}: built with --max_seq_length 128, but --max_encoder_length is 256`,
    ]);
  });

  it.skipIf(!hasGcsEmulator)('in a bucket: staged by kbb stage, planned without a problem, launch.sh and plan.json written', async () => {
    const bucket = `gs://${uniqueBucket('plan')}/kobigbird`;
    const { paths } = await stage({ destination: bucket, dataDir, initCheckpoint, tokenizerDir });
    const planDir = joinPath(bucket, 'plan');
    const outputDir = joinPath(bucket, 'models', 'sample');
    const result = await planTpu(
      run({ data_dir: paths.dataDir!, output_dir: outputDir, tokenizer_dir: paths.tokenizerDir!, init_checkpoint: paths.initCheckpoint! }),
      { plan_dir: planDir, steps_per_sec: 10 },
    );
    expect(result.problems).toEqual([]);
    expect(result.files).toEqual({ launch: joinPath(planDir, TPU_PLAN_FILES.launch), plan: joinPath(planDir, TPU_PLAN_FILES.plan) });
    const plan = await readTpuPlan(planDir);
    expect(plan).toEqual(result.plan);
    expect(plan.figures).toMatchObject({ global_batch: 64, tokens_per_step: 64 * 128, steps: 120, hours: 12 / 3600 });
    expect(plan.trainer_argv).toContain(`--data_dir=${paths.dataDir}`);
    expect(plan.trainer_argv).toContain(`--init_checkpoint=${paths.initCheckpoint}`);
    expect(plan.trainer_argv).toContain(`--tokenizer_dir=${REFERENCE_TRAINER.workDir}/tokenizer`);
    expect(plan.notes).toEqual([`warm start from ${paths.initCheckpoint}: 43 copied, 2 renamed, 1 fresh`]);
    const launch = (await fileSystemFor(planDir).readFile(result.files!.launch)).toString('utf8');
    expect(launch).toContain(plan.startup_script);
    expect(launch).toContain(`kbb watch ${outputDir} --follow`);
  });
});

describe('readTpuPlan', () => {
  it('refuses a file that is not a plan, naming it', async () => {
    const file = join(root, 'not-a-plan.json');
    await fileSystemFor(file).writeFile(file, '{"kind": "something-else"}');
    await expect(readTpuPlan(file)).rejects.toThrow(`${file}: not a plan written by kbb tpu plan (no "kind": "kbb-tpu-plan")`);
    await fileSystemFor(file).writeFile(file, 'not json');
    await expect(readTpuPlan(file)).rejects.toThrow(`${file}: not a plan written by kbb tpu plan (`);
    expect(readFileSync(file, 'utf8')).toBe('not json');
  });
});
