import { describe, expect, it } from 'vitest';
import { bigBirdVariables } from '../../lib/checkpoint/index.js';
import { relocateTpuPlanInputs, TPU_DEFAULTS, type TpuPlanInputs, tpuPlanChecks, tpuPlanProblems } from '../../lib/cloud/index.js';
import { TRAIN_DEFAULTS, type TrainFlags } from '../../lib/train/index.js';

const BUCKET = 'gs://kobigbird';
const SHARDS = [`${BUCKET}/pretrain_tfrecords/pretrain_data.tfrecord-0-of-2`, `${BUCKET}/pretrain_tfrecords/pretrain_data.tfrecord-1-of-2`];

/** A small BERT's variables: BERT's embedding LayerNorm name and 512 positions, as a warm start reads them. */
const bert = (vocab: number, hidden: number) =>
  bigBirdVariables({
    vocab_size: vocab,
    hidden_size: hidden,
    num_hidden_layers: 2,
    intermediate_size: 64,
    max_position_embeddings: 512,
    type_vocab_size: 2,
  }).map((v) => ({ name: v.name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm'), shape: v.shape }));

/** A run of 1024 tokens in blocks of 64 on a v3-8, in a bucket, warm-started from a small BERT: everything fits. */
const good = (more: Partial<TpuPlanInputs> = {}, flags: Partial<TrainFlags> = {}): TpuPlanInputs => ({
  flags: {
    ...TRAIN_DEFAULTS,
    data_dir: `${BUCKET}/pretrain_tfrecords`,
    output_dir: `${BUCKET}/model`,
    tokenizer_dir: `${BUCKET}/tokenizer`,
    init_checkpoint: `${BUCKET}/init_checkpoint/bert_model.ckpt`,
    max_encoder_length: 1024,
    max_position_embeddings: 1024,
    max_predictions_per_seq: 160,
    block_size: 64,
    hidden_size: 32,
    num_attention_heads: 2,
    num_hidden_layers: 2,
    intermediate_size: 64,
    tpu_name: 'kbb-test',
    tpu_zone: 'europe-west4-a',
    gcp_project: 'my-project',
    ...flags,
  },
  tpu: { ...TPU_DEFAULTS, steps_per_sec: 2, price_per_hour: 8 },
  data: {
    dir: `${BUCKET}/pretrain_tfrecords`,
    files: SHARDS,
    records: SHARDS.map((file) => ({ file, index: 0, length: 1024, slots: 160 })),
    manifest: { maxSeqLength: 1024, maxPredictionsPerSeq: 160, vocabSize: 3000, examples: 5000 },
  },
  tokenizer: { dir: `${BUCKET}/tokenizer`, vocabSize: 3000 },
  checkpoint: { prefix: `${BUCKET}/init_checkpoint/bert_model.ckpt`, variables: bert(3000, 32) },
  readErrors: [],
  ...more,
});

const byCheck = (inputs: TpuPlanInputs) => Object.fromEntries(tpuPlanChecks(inputs).map((row) => [row.check, row]));

/** Every row's problems together, against tpuPlanProblems' lines: none lost, none twice. */
const expectEveryLineOnce = (inputs: TpuPlanInputs) => {
  const rows = tpuPlanChecks(inputs);
  expect(rows.map((row) => row.check)).not.toContain('other');
  expect(rows.flatMap((row) => row.problems).sort()).toEqual(tpuPlanProblems(inputs).sort());
  for (const row of rows) expect(row.status === 'fails', row.check).toBe(row.problems.length > 0);
};

describe('tpuPlanChecks', () => {
  it('a run that fits: every check ok, with the values it compared', () => {
    const rows = tpuPlanChecks(good());
    expect(rows.map((row) => row.status)).toEqual(rows.map(() => 'ok'));
    expect(new Set(rows.map((row) => row.check)).size).toBe(rows.length);
    const checks = byCheck(good());
    expect(checks['tokens per record'].values).toBe('records 1,024, 1,024; build 1,024; flag 1024');
    expect(checks['prediction slots'].values).toBe('records 160, 160; build 160; flag 160');
    expect(checks.vocabulary.values).toBe('build 3,000; tokenizer 3,000; checkpoint 3,000');
    expect(checks['block size'].values).toBe('1024 / 64 = 16 blocks');
    expect(checks['TPU cores'].values).toBe('v3-8: 8 cores, 1 VM; num_tpu_cores 8');
    expect(checks['TensorFlow runtime'].values).toBe('tpu-vm-tf-2.15.1-se: TensorFlow 2.15');
    expect(checks['paths in a bucket'].values).toBe('4 of 4 in gs://');
    expect(checks['warm start'].values).toMatch(/^\d+ copied, 2 renamed, 1 fresh$/);
  });

  it('what there was nothing to check is skipped: full attention, no init checkpoint, no estimate asked', () => {
    const inputs = good(
      {
        tpu: TPU_DEFAULTS,
        checkpoint: undefined,
        data: { ...good().data!, records: SHARDS.map((file) => ({ file, index: 0, length: 512, slots: 160 })), manifest: undefined },
      },
      { init_checkpoint: null, max_encoder_length: 512 },
    );
    expect(tpuPlanProblems(inputs)).toEqual([]);
    const checks = byCheck(inputs);
    expect(checks['block size']).toMatchObject({ status: 'skipped', values: '512 tokens: full attention, no blocks' });
    expect(checks['warm start']).toMatchObject({ status: 'skipped', values: 'no init_checkpoint: every weight starts fresh' });
    expect(checks['estimate figures']).toMatchObject({ status: 'skipped', values: 'none given' });
    expect(checks['tokens per record']).toMatchObject({ status: 'ok', values: 'records 512, 512; build ?; flag 512' });
  });

  it('each problem line is under the check that made it, with both values', () => {
    const inputs = good(
      { data: { ...good().data!, manifest: { maxSeqLength: 128, maxPredictionsPerSeq: 20, vocabSize: 300 } } },
      { block_size: 100, gradient_accumulation_steps: 8 },
    );
    const checks = byCheck(inputs);
    expect(checks['tokens per record'].problems).toEqual([`${BUCKET}/pretrain_tfrecords: built with --max_seq_length 128, but --max_encoder_length is 1024`]);
    expect(checks['prediction slots'].problems).toEqual([
      `${BUCKET}/pretrain_tfrecords: built with --max_predictions_per_seq 20, but --max_predictions_per_seq is 160`,
    ]);
    expect(checks.vocabulary.problems).toEqual([
      `${BUCKET}/pretrain_tfrecords: built with a tokenizer of 300 tokens, but --tokenizer_dir ${BUCKET}/tokenizer has 3000`,
    ]);
    expect(checks['block size'].problems).toEqual([
      '--max_encoder_length 1024 is not a multiple of --block_size 100 (block-sparse attention works in whole blocks)',
    ]);
    expect(checks["the reference's flags"].status).toBe('fails');
    expect(checks['TPU cores'].status).toBe('ok');
    expectEveryLineOnce(inputs);
  });

  it('every problem line lands once, under the check that found it, and every check can fail', () => {
    const bigBird = bigBirdVariables({
      vocab_size: 3000,
      hidden_size: 32,
      num_hidden_layers: 2,
      intermediate_size: 64,
      max_position_embeddings: 1024,
      type_vocab_size: 2,
    });
    const cases: TpuPlanInputs[] = [
      good(),
      good({ readErrors: [`${BUCKET}/tokenizer/vocab.txt: no such object`], tokenizer: undefined }),
      good({}, { max_position_embeddings: 512, train_batch_size: 0, optimizer: 'adam' }),
      good({}, { data_dir: 'data', output_dir: '/tmp/out', tokenizer_dir: 'tok', init_checkpoint: 'bert/bert_model.ckpt', tpu_name: null, tpu_zone: null }),
      good({}, { gradient_accumulation_steps: 4, overwrite: true }),
      good({ data: { dir: `${BUCKET}/pretrain_tfrecords`, files: [], records: [] } }),
      good({ data: { ...good().data!, records: SHARDS.map((file) => ({ file, index: 0, length: 128, slots: 20 })) } }),
      good({ tokenizer: { dir: `${BUCKET}/tokenizer`, vocabSize: 300 } }),
      good({ tpu: { ...TPU_DEFAULTS, accelerator_type: 'v3-32', runtime_version: 'tpu-vm-tf-2.16.1-pjrt', steps_per_sec: 0, price_per_hour: -1 } }),
      good({ tpu: { ...TPU_DEFAULTS, accelerator_type: 'v6e-8', runtime_version: 'tpu-ubuntu2204-base' } }, { num_tpu_cores: 4 }),
      good({ tpu: { ...TPU_DEFAULTS, accelerator_type: 'v4-8' } }),
      good({ checkpoint: { prefix: `${BUCKET}/model.ckpt-0`, variables: bigBird } }),
      good({ checkpoint: { prefix: `${BUCKET}/wide`, variables: bert(3000, 64) } }),
      good({}, { hidden_size: 0 }),
      good({}, { block_size: 48 }),
    ];
    for (const inputs of cases) expectEveryLineOnce(inputs);
    // The cases between them fail every check.
    const failed = new Set(
      cases.flatMap((inputs) =>
        tpuPlanChecks(inputs)
          .filter((row) => row.status === 'fails')
          .map((row) => row.check),
      ),
    );
    expect([...failed].sort()).toEqual(
      tpuPlanChecks(good())
        .map((row) => row.check)
        .sort(),
    );
  });
});

describe('relocateTpuPlanInputs', () => {
  const local = '/tmp/bucket';
  const inputs = relocateTpuPlanInputs(
    {
      ...good(),
      flags: {
        ...good().flags,
        data_dir: `${local}/kobigbird/pretrain_tfrecords`,
        output_dir: `${local}/kobigbird/model`,
        tokenizer_dir: `${local}2/tokenizer`,
        init_checkpoint: null,
      },
      data: {
        dir: `${local}/kobigbird/pretrain_tfrecords`,
        files: [`${local}/kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-0-of-1`],
        records: [{ file: `${local}/kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-0-of-1`, index: 0, length: 1024, slots: 160 }],
      },
      tokenizer: { dir: `${local}2/tokenizer`, vocabSize: 3000 },
      checkpoint: undefined,
      readErrors: [`${local}/kobigbird/init_checkpoint/bert_model.ckpt.index: no such file`, `${local}-other/x: no such file`],
    },
    { from: `${local}/`, to: 'gs://my-bucket' },
  );

  it('names every path under the local folder in the bucket instead', () => {
    expect(inputs.flags.data_dir).toBe('gs://my-bucket/kobigbird/pretrain_tfrecords');
    expect(inputs.flags.output_dir).toBe('gs://my-bucket/kobigbird/model');
    expect(inputs.flags.init_checkpoint).toBeNull();
    expect(inputs.data?.dir).toBe('gs://my-bucket/kobigbird/pretrain_tfrecords');
    expect(inputs.data?.files).toEqual(['gs://my-bucket/kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-0-of-1']);
    expect(inputs.data?.records[0]).toEqual({
      file: 'gs://my-bucket/kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-0-of-1',
      index: 0,
      length: 1024,
      slots: 160,
    });
    expect(inputs.readErrors[0]).toBe('gs://my-bucket/kobigbird/init_checkpoint/bert_model.ckpt.index: no such file');
  });

  it('leaves alone what only starts with the same letters, and everything that is not a path', () => {
    expect(inputs.flags.tokenizer_dir).toBe(`${local}2/tokenizer`);
    expect(inputs.tokenizer?.dir).toBe(`${local}2/tokenizer`);
    expect(inputs.readErrors[1]).toBe(`${local}-other/x: no such file`);
    expect({ ...inputs.flags, data_dir: '', output_dir: '', tokenizer_dir: '' }).toEqual({
      ...good().flags,
      data_dir: '',
      output_dir: '',
      tokenizer_dir: '',
      init_checkpoint: null,
    });
    // The checks see the bucket: only the folder left outside it is named.
    expect(tpuPlanProblems(inputs).filter((line) => line.includes('is not in a bucket'))).toEqual([
      `--tokenizer_dir ${local}2/tokenizer is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)`,
    ]);
  });
});
