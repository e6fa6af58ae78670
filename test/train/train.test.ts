import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progress, setDisplaySink } from '../../kernel/index.js';
import { CheckpointReader, latestCheckpoint, loadWeightsFromCheckpoint, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { exportToHuggingFace, loadWeightsFromSafetensors } from '../../lib/convert/index.js';
import { BigBirdModel, bigBirdModelVariables, readBigBirdConfig } from '../../lib/model/index.js';
import { buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../../lib/pretraining/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { readScalarSeries } from '../../lib/tensorboard/index.js';
import {
  adamSlotNames,
  readTrainingRun,
  referenceLearningRate,
  TRAIN_DEFAULTS,
  type TrainFlags,
  type TrainProgress,
  train,
  trainProgressLine,
} from '../../lib/train/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { useTestBackend } from '../helpers/tf-backend.js';

/** `kbb train` end to end on the sample corpus: a tiny BigBird, a few dozen steps each. */

let dir = '';
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');

/** A tiny BigBird on the sample data (128 tokens, 20 slots: SAMPLE_BUILD_SETTINGS). */
const tiny = (outputDir: string, more: Partial<TrainFlags> = {}): Partial<TrainFlags> => ({
  data_dir: join(dir, 'data'),
  output_dir: outputDir,
  tokenizer_dir: tokenizerDir,
  max_encoder_length: SAMPLE_BUILD_SETTINGS.maxSeqLength,
  max_predictions_per_seq: SAMPLE_BUILD_SETTINGS.maxPredictionsPerSeq,
  max_position_embeddings: 128,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  train_batch_size: 4,
  num_train_steps: 20,
  num_warmup_steps: 2,
  learning_rate: 2e-3,
  save_checkpoints_steps: 10,
  seed: 3,
  ...more,
});

beforeAll(async () => {
  await useTestBackend();
  dir = mkdtempSync(join(tmpdir(), 'kbb-train-'));
  await buildPretrainingData({
    ...SAMPLE_BUILD_SETTINGS,
    inputDir: join(projectRoot, 'data', 'sample-corpus'),
    tokenizerDir,
    outputDir: join(dir, 'data'),
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (file: string): Buffer => readFileSync(file);

describe('kbb train writes what the reference trainer writes', () => {
  it('pretrain_config.json, tokenizer/, checkpoints with slots pruned to keep_checkpoint_max, events, eval_results.txt', async () => {
    const out = join(dir, 'files');
    const progress: TrainProgress[] = [];
    const result = await train({ flags: tiny(out, { keep_checkpoint_max: 2, do_eval: true, max_eval_steps: 3 }), onProgress: (p) => progress.push(p) });
    expect(result.finalStep).toBe(20);
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    // pretrain_config.json: the reference's keys (spec §3.1) and kbb's own flag, sorted, indent 4.
    const configText = readFileSync(join(out, 'pretrain_config.json'), 'utf8');
    const config = JSON.parse(configText) as Record<string, unknown>;
    // biome-ignore format: the reference's key list, one per line would take a page
    const referenceKeys = ['attention_probs_dropout_prob', 'attention_type', 'block_size', 'bos_token_id', 'cls_token_id', 'do_eval', 'do_train', 'eos_token_id', 'eval_batch_size', 'gcp_project', 'hidden_act', 'hidden_dropout_prob', 'hidden_size', 'initializer_range', 'intermediate_size', 'iterations_per_loop', 'keep_checkpoint_max', 'learning_rate', 'mask_token_id', 'masked_lm_prob', 'master', 'max_encoder_length', 'max_eval_steps', 'max_position_embeddings', 'max_predictions_per_seq', 'norm_type', 'num_attention_heads', 'num_hidden_layers', 'num_rand_blocks', 'num_tpu_cores', 'num_train_steps', 'num_warmup_steps', 'optimizer', 'optimizer_beta1', 'optimizer_beta2', 'optimizer_epsilon', 'pad_token_id', 'random_pos_emb', 'rescale_embedding', 'scope', 'seed', 'sep_token_id', 'tokenizer_dir', 'tpu_job_name', 'tpu_name', 'tpu_zone', 'train_batch_size', 'type_vocab_size', 'unk_token_id', 'use_bias', 'use_gradient_checkpointing', 'use_nsp', 'use_token_type', 'use_tpu', 'vocab_size', 'weight_decay_rate'];
    expect(Object.keys(config)).toEqual([...referenceKeys, 'gradient_accumulation_steps'].sort());
    expect(configText).toMatch(/^\{\n {4}"attention_probs_dropout_prob": 0\.1,\n/);
    expect(config).toMatchObject({
      vocab_size: 3000,
      pad_token_id: 0,
      cls_token_id: 2,
      mask_token_id: 4,
      bos_token_id: 5,
      eos_token_id: 6,
      hidden_size: 32,
      do_eval: true,
    });
    for (const name of readdirSync(tokenizerDir)) expect(bytes(join(out, 'tokenizer', name)).equals(bytes(join(tokenizerDir, name))), name).toBe(true);

    // model.ckpt-0 (at the start), -10 and -20 were written; the checkpoint file keeps the last two.
    expect(result.checkpoints.map((p) => p.slice(out.length + 1))).toEqual(['model.ckpt-0', 'model.ckpt-10', 'model.ckpt-20']);
    expect(readFileSync(join(out, 'checkpoint'), 'utf8')).toBe(
      'model_checkpoint_path: "model.ckpt-20"\nall_model_checkpoint_paths: "model.ckpt-10"\nall_model_checkpoint_paths: "model.ckpt-20"\n',
    );
    expect(readdirSync(out).filter((name) => name.startsWith('model.ckpt-0'))).toEqual([]);
    const reader = await CheckpointReader.open(join(out, 'model.ckpt-20'));
    try {
      expect((await reader.read('global_step')).values).toEqual(new BigInt64Array([20n]));
      const variables = bigBirdModelVariables(result.config, 'pretraining').map((v) => v.name);
      const trained = variables.filter((name) => !name.startsWith('bert/pooler') && !name.startsWith('cls/seq_relationship'));
      const slots = trained.flatMap((name) => [adamSlotNames(name).m, adamSlotNames(name).v]);
      expect(reader.variables.map((v) => v.name).sort()).toEqual([...variables, ...slots, 'global_step'].sort());
    } finally {
      await reader.close();
    }

    // Event files: one point per step for each scalar, the rate the schedule gives.
    const series = await readScalarSeries(out);
    for (const tag of ['loss', 'learning_rate', 'masked_lm_accuracy', 'global_step/sec', 'examples/sec']) {
      expect(
        series.get(tag)?.map((p) => p.step),
        tag,
      ).toEqual(progress.map((p) => p.step));
    }
    expect(series.get('learning_rate')!.map((p) => p.value)).toEqual(progress.map((p) => Math.fround(referenceLearningRate(p.step - 1, 2e-3, 2, 20))));
    expect(series.get('loss')!.map((p) => p.value)).toEqual(progress.map((p) => Math.fround(p.loss)));

    // eval_results.txt as run_pretraining.py writes it.
    const evalText = readFileSync(join(out, 'eval_results.txt'), 'utf8');
    expect(evalText).toMatch(/^global_step = 20\nloss = [\d.]+\nmasked_lm_accuracy = [\d.]+\nmasked_lm_loss = [\d.]+\n$/);
    expect(result.evalResults!.masked_lm_loss).toBeGreaterThan(0);

    // What `kbb watch` reads of it.
    const { status } = await readTrainingRun(out);
    expect(status).toMatchObject({
      latestStep: 20,
      totalSteps: 20,
      checkpoints: [
        { name: 'model.ckpt-10', step: 10 },
        { name: 'model.ckpt-20', step: 20 },
      ],
    });
    expect(status.series.get('loss')).toHaveLength(20);
  }, 120_000);

  it('training on the sample data lowers the loss clearly: the last 10 of 120 steps average at least 10% below the first 10 (shown live as a notebook shows it)', async () => {
    const losses: number[] = [];
    // The notebook's live display: the kernel's progress output fed by the same onProgress.
    const shown: { text: string; displayId?: string; update: boolean }[] = [];
    const previousSink = setDisplaySink((bundle, target) => shown.push({ text: String(bundle.data['text/plain']), ...target }));
    const flags = tiny(join(dir, 'falls'), {
      num_train_steps: 120,
      num_warmup_steps: 12,
      train_batch_size: 8,
      learning_rate: 5e-3,
      save_checkpoints_steps: 120,
    });
    try {
      const bar = progress('training');
      await train({
        flags,
        onProgress: (p) => {
          losses.push(p.loss);
          bar.update(p.step, p.totalSteps, trainProgressLine(p));
        },
      });
      bar.finish();
    } finally {
      setDisplaySink(previousSink);
    }
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    const first = mean(losses.slice(0, 10));
    const last = mean(losses.slice(-10));
    expect(last, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`).toBeLessThan(0.9 * first);

    expect(new Set(shown.map((s) => s.displayId)).size).toBe(1);
    expect(shown.slice(1).every((s) => s.update)).toBe(true);
    expect(
      shown.some(
        (s) => / ETA \d/.test(s.text) && /^training \[#*\.+\] \d+% · step \d+\/120 · loss \d+\.\d{4} · lr \d\.\d\de-\d · [\d,]+ tokens\/s/.test(s.text),
      ),
    ).toBe(true);
    expect(shown.at(-1)?.text).toMatch(
      new RegExp(`^training \\[#{30}\\] 100% · step 120/120 · loss ${losses.at(-1)!.toFixed(4).replace('.', '\\.')} · .* · done$`),
    );
  }, 120_000);
});

describe('kbb train resumes', () => {
  it('a run stopped by its signal and run again gives the uninterrupted run’s checkpoints, bit for bit', async () => {
    const straight = join(dir, 'straight');
    await train({ flags: tiny(straight) });
    const stopped = join(dir, 'stopped');
    const stop = new AbortController();
    const first = await train({ flags: tiny(stopped), signal: stop.signal, onProgress: (p) => p.step === 7 && stop.abort() });
    expect(first).toMatchObject({ stopped: true, finalStep: 7 });
    expect(await latestCheckpoint(stopped)).toBe(join(stopped, 'model.ckpt-7'));
    const notes: string[] = [];
    const second = await train({ flags: tiny(stopped), onNote: (n) => notes.push(n) });
    expect(second).toMatchObject({ stopped: false, startStep: 7, finalStep: 20 });
    expect(notes).toContain(`resuming from ${join(stopped, 'model.ckpt-7')} at step 7`);
    for (const file of ['model.ckpt-10.index', 'model.ckpt-10.data-00000-of-00001', 'model.ckpt-20.index', 'model.ckpt-20.data-00000-of-00001']) {
      expect(bytes(join(stopped, file)).equals(bytes(join(straight, file))), file).toBe(true);
    }
  }, 120_000);

  it('--overwrite starts afresh instead of resuming, removing only what a run writes', async () => {
    const out = join(dir, 'overwritten');
    await train({ flags: tiny(out, { num_train_steps: 4, save_checkpoints_steps: 2 }) });
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const notes: string[] = [];
    const again = await train({ flags: tiny(out, { num_train_steps: 3, save_checkpoints_steps: 3, overwrite: true }), onNote: (n) => notes.push(n) });
    expect(again).toMatchObject({ startStep: 0, finalStep: 3 });
    expect(notes.some((n) => n.startsWith('--overwrite: removed'))).toBe(true);
    expect(
      readdirSync(out)
        .filter((name) => name.startsWith('model.ckpt-') && name.endsWith('.index'))
        .sort(),
    ).toEqual(['model.ckpt-0.index', 'model.ckpt-3.index']);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
  }, 60_000);

  it('a run killed with SIGKILL at any moment (mid-save included) leaves a usable checkpoint, and a rerun still ends bit for bit where an uninterrupted run does', async () => {
    const flags = tiny(join(dir, 'killed'), { num_train_steps: 40, save_checkpoints_steps: 1 });
    const reference = join(dir, 'unkilled');
    await train({ flags: { ...flags, output_dir: reference } });
    // A checkpoint every step, so a kill often lands inside a save: killed at several moments after the first one.
    for (const delayMs of [0, 15, 30, 60, 110, 230]) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'test', 'train', 'train-child.ts'), JSON.stringify(flags)], {
        cwd: projectRoot,
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Until this child has saved a checkpoint of its own (the state file changes), then a little longer.
      const stateFile = join(flags.output_dir!, 'checkpoint');
      const before = existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : '';
      const deadline = Date.now() + 60_000;
      while ((existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : '') === before && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(child.exitCode, 'the child was still training').toBeNull();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      await exited;
      // The checkpoint the state file names is complete: every tensor reads with its CRC.
      const latest = await latestCheckpoint(flags.output_dir!);
      const reader = await CheckpointReader.open(latest);
      for (const v of reader.variables) await reader.readBytes(v.name);
      await reader.close();
      expect(JSON.parse(readFileSync(`${latest}.kbb-train.json`, 'utf8'))).toHaveProperty('input');
    }
    await train({ flags });
    // What an interrupted save left is cleared away.
    expect(readdirSync(flags.output_dir!).filter((name) => name.includes('.tmp-'))).toEqual([]);
    for (const file of ['model.ckpt-40.index', 'model.ckpt-40.data-00000-of-00001']) {
      expect(bytes(join(flags.output_dir!, file)).equals(bytes(join(reference, file))), file).toBe(true);
    }
  }, 180_000);
});

describe('kbb train starts from a checkpoint', () => {
  it('warm-starts from a BERT checkpoint by the reference rules, at step 0; starts from a BigBird checkpoint whole', async () => {
    // A BERT of the tiny model's sizes, BERT's LayerNorm name and a 16-row position table, with Adam slots and a step.
    const bert = join(dir, 'bert', 'bert_model.ckpt');
    const base = await train({ flags: tiny(join(dir, 'sizes'), { do_train: false }) });
    const tensors: TensorToWrite[] = [];
    for (const { name, shape } of bigBirdModelVariables(base.config, 'pretraining')) {
      const renamed = name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm');
      const rows = name === 'bert/embeddings/position_embeddings' ? [16, shape[1]] : shape;
      const values = Float32Array.from({ length: elementCount(rows) }, (_, i) => Math.sin(i + renamed.length));
      for (const slot of ['', '/adam_m', '/adam_v']) tensors.push({ name: renamed + slot, dtype: 'float32', shape: rows, data: new Uint8Array(values.buffer) });
    }
    tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(new BigInt64Array([1000n]).buffer) });
    await writeCheckpoint(
      bert,
      tensors.sort((a, b) => (a.name < b.name ? -1 : 1)),
    );

    const warm = join(dir, 'warm');
    const notes: string[] = [];
    await train({ flags: tiny(warm, { init_checkpoint: bert, num_train_steps: 2 }), onNote: (n) => notes.push(n) });
    expect(notes).toContain(`warm start from ${bert}: 43 copied, 2 renamed, 1 fresh`);
    const source = await CheckpointReader.open(bert);
    const start = await CheckpointReader.open(join(warm, 'model.ckpt-0'));
    try {
      expect((await start.read('global_step')).values).toEqual(new BigInt64Array([0n]));
      expect(
        Buffer.from(await start.readBytes('bert/encoder/layer_1/output/dense/kernel')).equals(
          Buffer.from(await source.readBytes('bert/encoder/layer_1/output/dense/kernel')),
        ),
      ).toBe(true);
      expect(
        Buffer.from(await start.readBytes('bert/encoder/LayerNorm/gamma')).equals(Buffer.from(await source.readBytes('bert/embeddings/LayerNorm/gamma'))),
      ).toBe(true);
      expect(start.variable('bert/embeddings/position_embeddings').shape).toEqual([128, 32]);
      expect(start.has('bert/encoder/layer_0/output/dense/kernel/adam_m')).toBe(false);
    } finally {
      await Promise.all([source.close(), start.close()]);
    }

    // The warm-started run's last checkpoint, as --init_checkpoint of a new run: loaded whole, step 0 again.
    const again = join(dir, 'from-bigbird');
    notes.length = 0;
    await train({ flags: tiny(again, { init_checkpoint: join(warm, 'model.ckpt-2'), num_train_steps: 1 }), onNote: (n) => notes.push(n) });
    expect(notes[0]).toMatch(/^starting from the BigBird checkpoint .*model\.ckpt-2 \(every variable, position table included; the step starts at 0\)$/);
    const from = await CheckpointReader.open(join(warm, 'model.ckpt-2'));
    const zero = await CheckpointReader.open(join(again, 'model.ckpt-0'));
    try {
      for (const name of ['bert/embeddings/position_embeddings', 'bert/encoder/layer_0/attention/self/query/kernel', 'cls/predictions/output_bias']) {
        expect(Buffer.from(await zero.readBytes(name)).equals(Buffer.from(await from.readBytes(name))), name).toBe(true);
      }
      expect((await zero.read('global_step')).values).toEqual(new BigInt64Array([0n]));
    } finally {
      await Promise.all([from.close(), zero.close()]);
    }
  }, 120_000);
});

describe('kbb export of a kbb train output', () => {
  it('loads back into BigBirdModel with the logits of the checkpoint', async () => {
    const out = join(dir, 'to-export');
    await train({ flags: tiny(out, { num_train_steps: 3 }) });
    const hf = join(dir, 'exported');
    await exportToHuggingFace({ checkpointDir: out, outputDir: hf });
    const hfConfig = await readBigBirdConfig(join(hf, 'config.json'));
    const tfConfig = await readBigBirdConfig(join(out, 'pretrain_config.json'));
    const exported = new BigBirdModel({ config: hfConfig, weights: await loadWeightsFromSafetensors(join(hf, 'model.safetensors'), hfConfig, 'pretraining') });
    const trained = new BigBirdModel({ config: tfConfig, weights: await loadWeightsFromCheckpoint(join(out, 'model.ckpt-3'), tfConfig, 'pretraining') });
    const inputIds = Int32Array.from({ length: 2 * 40 }, (_, i) => 7 + ((i * 37) % 2900));
    const batch = { inputIds, shape: [2, 40] as const };
    const a = exported.forward(batch, { hiddenStates: false });
    const b = trained.forward(batch, { hiddenStates: false });
    try {
      expect(Array.from(a.logits!.dataSync())).toEqual(Array.from(b.logits!.dataSync()));
      expect(Array.from(a.seqRelationshipLogits!.dataSync())).toEqual(Array.from(b.seqRelationshipLogits!.dataSync()));
    } finally {
      tf.dispose([
        a.lastHiddenState,
        a.logits!,
        a.poolerOutput!,
        a.seqRelationshipLogits!,
        b.lastHiddenState,
        b.logits!,
        b.poolerOutput!,
        b.seqRelationshipLogits!,
      ]);
      exported.dispose();
      trained.dispose();
    }
  }, 120_000);
});

describe('kbb train refuses up front', () => {
  it('flags it cannot honour, and a configuration whose estimated memory does not fit the backend, with the estimate', async () => {
    await expect(train({ flags: tiny(join(dir, 'never'), { optimizer: 'adafactor', max_encoder_length: 256 }) })).rejects.toThrow(
      /--max_encoder_length 256 is more than --max_position_embeddings 128; --optimizer=adafactor is not supported/,
    );
    if ((await useTestBackend()) === 'wasm') {
      const base = { ...TRAIN_DEFAULTS, data_dir: join(dir, 'data'), tokenizer_dir: tokenizerDir, output_dir: join(dir, 'never'), block_size: 64 };
      await expect(train({ flags: base })).rejects.toThrow(/needs about [\d.]+ GiB of tensor data \(weights .*\); the wasm backend holds about [\d.]+ GiB/);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  }, 60_000);
});
