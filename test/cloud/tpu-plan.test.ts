import { spawnSync } from 'node:child_process';
import { protos } from '@google-cloud/tpu';
import { describe, expect, it } from 'vitest';
import { bigBirdVariables } from '../../lib/checkpoint/index.js';
import {
  createNodeRequest,
  deleteNodeRequest,
  formatTpuPlan,
  launchScript,
  makeTpuPlan,
  REFERENCE_TRAINER,
  runtimeTensorflowVersion,
  TPU_DEFAULTS,
  type TpuPlanInputs,
  tpuAccelerator,
  tpuPlanProblems,
} from '../../lib/cloud/index.js';
import { TRAIN_DEFAULTS, type TrainFlags } from '../../lib/train/index.js';

/** KoBigBird's base run (spec §2.2, base_size_tpu.sh), in a bucket, warm-started from a BERT. */
const baseFlags: TrainFlags = {
  ...TRAIN_DEFAULTS,
  data_dir: 'gs://kobigbird/pretrain_tfrecords',
  output_dir: 'gs://kobigbird/models/kobigbird-bert-base',
  tokenizer_dir: 'gs://kobigbird/tokenizer',
  init_checkpoint: 'gs://kobigbird/init_checkpoint/bert_model.ckpt',
  attention_type: 'block_sparse',
  max_encoder_length: 4096,
  max_position_embeddings: 4096,
  block_size: 64,
  num_attention_heads: 12,
  num_hidden_layers: 12,
  hidden_size: 768,
  intermediate_size: 3072,
  do_train: true,
  do_eval: false,
  use_tpu: true,
  tpu_name: 'kobigbird-bert-base',
  tpu_zone: 'europe-west4-a',
  gcp_project: 'my-project',
  num_tpu_cores: 8,
  train_batch_size: 4,
  eval_batch_size: 8,
  num_train_steps: 2000000,
  num_warmup_steps: 20000,
  save_checkpoints_steps: 100000,
  learning_rate: 1e-4,
  keep_checkpoint_max: 20,
  use_gradient_checkpointing: false,
  use_nsp: false,
  max_predictions_per_seq: 640,
  random_pos_emb: true,
  iterations_per_loop: 200,
  seed: 42,
};

/** A BERT-base checkpoint's variables: BERT's embedding LayerNorm name and 512 positions, plus Adam slots and the step. */
const bertVariables = (vocab = 32500, hidden = 768) =>
  bigBirdVariables({
    vocab_size: vocab,
    hidden_size: hidden,
    num_hidden_layers: 12,
    intermediate_size: 3072,
    max_position_embeddings: 512,
    type_vocab_size: 2,
  }).flatMap((v) => {
    const name = v.name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm');
    return [
      { name, shape: v.shape },
      { name: `${name}/adam_m`, shape: v.shape },
    ];
  });

const good = (more: Partial<TpuPlanInputs> = {}, flags: Partial<TrainFlags> = {}): TpuPlanInputs => ({
  flags: { ...baseFlags, ...flags },
  tpu: { ...TPU_DEFAULTS, steps_per_sec: 2.5, price_per_hour: 8 },
  data: {
    dir: baseFlags.data_dir,
    files: ['gs://kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-0-of-1000', 'gs://kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-999-of-1000'],
    records: [
      { file: 'gs://kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-0-of-1000', index: 0, length: 4096, slots: 640 },
      { file: 'gs://kobigbird/pretrain_tfrecords/pretrain_data.tfrecord-999-of-1000', index: 0, length: 4096, slots: 640 },
    ],
    manifest: { maxSeqLength: 4096, maxPredictionsPerSeq: 640, vocabSize: 32500, examples: 16_000_000 },
  },
  tokenizer: { dir: baseFlags.tokenizer_dir, vocabSize: 32500 },
  checkpoint: { prefix: baseFlags.init_checkpoint!, variables: [...bertVariables(), { name: 'global_step', shape: [] }] },
  readErrors: [],
  ...more,
});

describe('the TPU checks', () => {
  it("KoBigBird's own base run fits together", () => {
    expect(tpuPlanProblems(good())).toEqual([]);
  });

  it('each misfit is one line with both values', () => {
    const inputs = good(
      {
        tpu: { ...TPU_DEFAULTS, accelerator_type: 'v4-8', runtime_version: 'tpu-vm-tf-2.16.1-pjrt' },
        data: {
          ...good().data!,
          records: [{ file: 'gs://d/pretrain_data.tfrecord-0-of-1', index: 0, length: 128, slots: 20 }],
          manifest: { maxSeqLength: 128, maxPredictionsPerSeq: 20, vocabSize: 3000 },
        },
      },
      { block_size: 100, max_position_embeddings: 2048, gradient_accumulation_steps: 8 },
    );
    expect(tpuPlanProblems(inputs)).toEqual([
      '--max_encoder_length 4096 is more than --max_position_embeddings 2048',
      "--gradient_accumulation_steps=8 is kbb train's own; run_pretraining.py has no such flag (on a TPU the global batch is --train_batch_size × --num_tpu_cores)",
      'gs://d/pretrain_data.tfrecord-0-of-1 record 0: 128 tokens, but --max_encoder_length is 4096',
      'gs://d/pretrain_data.tfrecord-0-of-1 record 0: 20 prediction slots, but --max_predictions_per_seq is 640',
      'gs://kobigbird/pretrain_tfrecords: built with --max_seq_length 128, but --max_encoder_length is 4096',
      'gs://kobigbird/pretrain_tfrecords: built with --max_predictions_per_seq 20, but --max_predictions_per_seq is 640',
      'gs://kobigbird/pretrain_tfrecords: built with a tokenizer of 3000 tokens, but --tokenizer_dir gs://kobigbird/tokenizer has 32500',
      '--max_encoder_length 4096 is not a multiple of --block_size 100 (block-sparse attention works in whole blocks)',
      '--num_tpu_cores 8, but --accelerator_type v4-8 has 4 TPU cores',
      '--runtime_version tpu-vm-tf-2.16.1-pjrt has TensorFlow 2.16, but tf.estimator, which run_pretraining.py needs, was removed in 2.16 (use tpu-vm-tf-2.15.1-se)',
    ]);
  });

  it('the tokenizer against the checkpoint, and the checkpoint against the model: its vocabulary, shapes and names', () => {
    const smallVocab = good({ tokenizer: { dir: 'gs://kobigbird/tokenizer', vocabSize: 3000 }, data: undefined });
    expect(tpuPlanProblems(smallVocab)).toEqual([
      '--tokenizer_dir gs://kobigbird/tokenizer has 3000 tokens, but bert/embeddings/word_embeddings of gs://kobigbird/init_checkpoint/bert_model.ckpt has 32500 rows',
    ]);
    const narrower = good({}, { hidden_size: 512, num_attention_heads: 8 });
    const problems = tpuPlanProblems(narrower);
    // One line per variable with the checkpoint's width (the fresh position table aside).
    const wide = bertVariables().filter((v) => !v.name.endsWith('adam_m') && v.shape.includes(768) && !v.name.includes('position_embeddings'));
    expect(problems).toHaveLength(wide.length);
    expect(problems).toContain(
      '--init_checkpoint gs://kobigbird/init_checkpoint/bert_model.ckpt: bert/embeddings/word_embeddings: checkpoint bert/embeddings/word_embeddings is [32500,768], the BigBird config needs [32500,512]',
    );
    // A BigBird checkpoint (kbb warm-start's output) has no BERT embedding LayerNorm, which the reference reads by name.
    const bigBird = bigBirdVariables({
      vocab_size: 32500,
      hidden_size: 768,
      num_hidden_layers: 12,
      intermediate_size: 3072,
      max_position_embeddings: 4096,
      type_vocab_size: 2,
    });
    expect(tpuPlanProblems(good({ checkpoint: { prefix: 'gs://b/model.ckpt-0', variables: bigBird } }))).toEqual([
      "--init_checkpoint gs://b/model.ckpt-0 has no bert/embeddings/LayerNorm/beta or bert/embeddings/LayerNorm/gamma: run_pretraining.py warm-starts bert/encoder/LayerNorm from BERT's embedding LayerNorm and stops with a KeyError without it (a BigBird checkpoint: to continue it, copy it into --output_dir, where the trainer resumes)",
    ]);
    const strangers = [...BERT_NORM, { name: 'encoder/layer_0/kernel', shape: [768, 768] }];
    expect(tpuPlanProblems(good({ checkpoint: { prefix: 'gs://b/other', variables: strangers } }))).toEqual([
      '--init_checkpoint gs://b/other: none of its 3 variables is one the trainer warm-starts by name (BERT names such as bert/embeddings/word_embeddings)',
    ]);
  });

  it('the paths must be in a bucket, the VM named, and the TPU one the trainer can use', () => {
    const local = good(
      { tpu: { ...TPU_DEFAULTS, accelerator_type: 'v3-32', steps_per_sec: 0 } },
      { data_dir: 'data', output_dir: '/tmp/out', tokenizer_dir: 'tok', init_checkpoint: null, tpu_name: null, gcp_project: null, num_tpu_cores: 32 },
    );
    expect(tpuPlanProblems({ ...local, checkpoint: undefined })).toEqual([
      '--data_dir data is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)',
      '--output_dir /tmp/out is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)',
      '--tokenizer_dir tok is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)',
      "--tpu_name is required: the TPU VM's name",
      "--gcp_project is required: the TPU VM's project",
      '--accelerator_type v3-32 spans 4 VMs, but the plan runs the trainer on one; use a single-host type (v3-8)',
      '--steps_per_sec must be a positive number, got 0',
    ]);
    expect(tpuPlanProblems(good({ tpu: { ...TPU_DEFAULTS, accelerator_type: 'v6e-8', runtime_version: 'tpu-ubuntu2204-base' } }))).toEqual([
      '--accelerator_type v6e-8 is not a TPU type with a TensorFlow runtime (v2-8, v3-8, v4-8, v5p-8, v5litepod-8…)',
      '--runtime_version tpu-ubuntu2204-base is not a TensorFlow TPU VM runtime (tpu-vm-tf-…), which run_pretraining.py needs',
    ]);
    expect(tpuPlanProblems(good({ readErrors: ['gs://kobigbird/tokenizer/vocab.txt: no such object'] }))).toEqual([
      'gs://kobigbird/tokenizer/vocab.txt: no such object',
    ]);
  });

  it('knows the TPU types and runtimes', () => {
    expect(tpuAccelerator('v3-8')).toEqual({ cores: 8, hosts: 1 });
    expect(tpuAccelerator('v2-8')).toEqual({ cores: 8, hosts: 1 });
    expect(tpuAccelerator('v4-8')).toEqual({ cores: 4, hosts: 1 });
    expect(tpuAccelerator('v5litepod-8')).toEqual({ cores: 8, hosts: 1 });
    expect(tpuAccelerator('v5litepod-16')?.hosts).toBe(4);
    expect(tpuAccelerator('v3-32')).toEqual({ cores: 32, hosts: 4 });
    expect(tpuAccelerator('v3')).toBeUndefined();
    expect(runtimeTensorflowVersion(TPU_DEFAULTS.runtime_version)).toEqual([2, 15]);
    expect(runtimeTensorflowVersion('tpu-vm-tf-2.3.1')).toEqual([2, 3]);
    expect(runtimeTensorflowVersion('v2-alpha-tpuv5')).toBeUndefined();
  });
});

const BERT_NORM = [
  { name: 'bert/embeddings/LayerNorm/beta', shape: [768] },
  { name: 'bert/embeddings/LayerNorm/gamma', shape: [768] },
];

describe('the TPU plan', () => {
  const plan = makeTpuPlan(good());

  it("runs the trainer with base_size_tpu.sh's flags (spec §2.2) filled from the run, --tpu_name=local, the warm start and the tokenizer copied to the VM", () => {
    // biome-ignore format: the script's flags, one line as the spec lists them
    const script = '--data_dir=gs://kobigbird/pretrain_tfrecords --output_dir=gs://kobigbird/models/kobigbird-bert-base --attention_type=block_sparse --max_encoder_length=4096 --max_position_embeddings=4096 --block_size=64 --num_attention_heads=12 --num_hidden_layers=12 --hidden_size=768 --intermediate_size=3072 --do_train=True --do_eval=False --use_tpu=True --tpu_name=kobigbird-bert-base --tpu_zone=europe-west4-a --num_tpu_cores=8 --train_batch_size=4 --eval_batch_size=8 --num_train_steps=2000000 --num_warmup_steps=20000 --save_checkpoints_steps=100000 --learning_rate=1e-4 --keep_checkpoint_max=20 --use_gradient_checkpointing=False --use_nsp=False --max_predictions_per_seq=640 --random_pos_emb=True --iterations_per_loop=200 --seed=42';
    const expected = script
      .split(' ')
      .filter((flag) => !flag.startsWith('--tpu_zone='))
      .map((flag) => flag.replace('--tpu_name=kobigbird-bert-base', '--tpu_name=local').replace('=1e-4', '=0.0001'));
    expect(plan.trainer_argv).toEqual([
      'python3',
      'run_pretraining.py',
      ...expected,
      '--init_checkpoint=gs://kobigbird/init_checkpoint/bert_model.ckpt',
      `--tokenizer_dir=${REFERENCE_TRAINER.workDir}/tokenizer`,
    ]);
    // A trainer flag the user changed from its default goes along too.
    expect(makeTpuPlan(good({}, { num_rand_blocks: 2, weight_decay_rate: 0 })).trainer_argv.slice(-4)).toEqual([
      '--num_rand_blocks=2',
      '--weight_decay_rate=0',
      '--init_checkpoint=gs://kobigbird/init_checkpoint/bert_model.ckpt',
      `--tokenizer_dir=${REFERENCE_TRAINER.workDir}/tokenizer`,
    ]);
  });

  it('the global batch, tokens per step, steps, time and cost', () => {
    expect(plan.figures).toEqual({
      global_batch: 32,
      tokens_per_step: 32 * 4096,
      steps: 2_000_000,
      examples_read: 64_000_000,
      epochs: 4,
      hours: 2_000_000 / 2.5 / 3600,
      cost: (2_000_000 / 2.5 / 3600) * 8,
    });
    const text = formatTpuPlan(plan);
    expect(text).toContain('batch     32 examples per step (global), 131,072 tokens per step');
    expect(text).toContain('steps     2,000,000: 64,000,000 examples read, 4.00 passes over the data');
    expect(text).toContain('time      222.2 hours (9.3 days) at 2.5 steps/s, cost 1,777.78 at the given price per hour');
    expect(text).toContain('note      warm start from gs://kobigbird/init_checkpoint/bert_model.ckpt: 203 copied, 2 renamed, 1 fresh');
    const noFigures = makeTpuPlan(good({ tpu: TPU_DEFAULTS }));
    expect(noFigures.figures.hours).toBeUndefined();
    expect(formatTpuPlan(noFigures)).toContain('give --steps_per_sec (and --price_per_hour) for an estimate');
  });

  it("launch.sh is valid bash that creates today's TPU VM with the startup script, which is valid bash too", () => {
    const script = launchScript(plan);
    const bashN = (text: string) => spawnSync('bash', ['-n'], { input: text, encoding: 'utf8' });
    expect(bashN(script)).toMatchObject({ status: 0, stderr: '' });
    expect(bashN(plan.startup_script)).toMatchObject({ status: 0, stderr: '' });
    expect(script).toContain(
      [
        'gcloud compute tpus tpu-vm create kobigbird-bert-base \\',
        '  --version=tpu-vm-tf-2.15.1-se \\',
        '  --zone=europe-west4-a \\',
        '  --project=my-project \\',
        '  --accelerator-type=v3-8 \\',
        '  --metadata-from-file=startup-script="$STARTUP_SCRIPT"',
      ].join('\n'),
    );
    // The startup script goes into the file gcloud uploads exactly as the plan holds it.
    const heredoc = /<<'KBB_STARTUP_SCRIPT'\n([\s\S]*?)KBB_STARTUP_SCRIPT\n/.exec(script)![1];
    expect(heredoc).toBe(plan.startup_script);
    expect(plan.startup_script).toContain(`git -C KoBigBird checkout --quiet ${REFERENCE_TRAINER.commit}`);
    expect(plan.startup_script).toContain("python3 - gs://kobigbird/tokenizer /opt/kbb/tokenizer <<'KBB_COPY_TOKENIZER'");
    expect(plan.startup_script).toContain('nohup python3 run_pretraining.py \\\n    --data_dir=gs://kobigbird/pretrain_tfrecords \\');
    const queued = launchScript(makeTpuPlan(good({ tpu: { ...TPU_DEFAULTS, queued_resource: true, spot: true } })));
    expect(bashN(queued)).toMatchObject({ status: 0 });
    expect(queued).toContain(
      'gcloud compute tpus queued-resources create kobigbird-bert-base \\\n  --node-id=kobigbird-bert-base \\\n  --runtime-version=tpu-vm-tf-2.15.1-se',
    );
    expect(queued).toContain('  --spot \\');
  });
});

describe('the TPU API requests', () => {
  const plan = makeTpuPlan(good());

  it('createNode: the VM of the plan with its startup script, a message the TPU API v2 takes whole', () => {
    const request = createNodeRequest(plan);
    expect(request).toEqual({
      parent: 'projects/my-project/locations/europe-west4-a',
      nodeId: 'kobigbird-bert-base',
      node: {
        acceleratorType: 'v3-8',
        runtimeVersion: 'tpu-vm-tf-2.15.1-se',
        networkConfig: { enableExternalIps: true },
        labels: { 'created-by': 'kbb' },
        metadata: { 'startup-script': plan.startup_script },
      },
    });
    const { CreateNodeRequest } = protos.google.cloud.tpu.v2;
    const message = CreateNodeRequest.fromObject(request);
    expect(CreateNodeRequest.verify(message)).toBeNull();
    expect(CreateNodeRequest.toObject(message)).toEqual(request);
    const spot = createNodeRequest(makeTpuPlan(good({ tpu: { ...TPU_DEFAULTS, spot: true } })));
    expect(spot.node?.schedulingConfig).toEqual({ spot: true });
    expect(CreateNodeRequest.toObject(CreateNodeRequest.fromObject(spot))).toEqual(spot);
  });

  it("deleteNode: the node's full name", () => {
    const request = deleteNodeRequest(plan);
    expect(request).toEqual({ name: 'projects/my-project/locations/europe-west4-a/nodes/kobigbird-bert-base' });
    expect(protos.google.cloud.tpu.v2.DeleteNodeRequest.toObject(protos.google.cloud.tpu.v2.DeleteNodeRequest.fromObject(request))).toEqual(request);
  });
});
