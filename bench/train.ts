/**
 * `kbb train` end to end against the bare training step, on bench:model's shape: base width (hidden
 * 768, 12 heads, intermediate 3072, vocabulary 32,500, block 64, 3 random blocks), 2 layers, batch 1,
 * block-sparse at 1024 and 4096 tokens.
 *
 *   npm run bench:train [-- --steps 2 --layers 2 --only sparse_1024]
 *
 * For each length, two child processes, each with a fresh wasm heap and the same warm-up (the first
 * steps of a process run slower while V8 and the heap settle, so both measure after `WARM_UP` steps):
 *  - train: `train()` on synthetic TFRecords of that length (15% of the tokens, at most 640, as
 *    prediction slots) for WARM_UP + `steps` steps, with one checkpoint save at the end (every
 *    variable, the optimizer's slots, kbb's state, the `checkpoint` file), timed from the end of the
 *    warm-up to the end of the run: input pipeline, steps, summaries, the save.
 *  - step: the same model and batch, `lossAndGrads` and AdamW alone (bench:model's measurement).
 * overhead = 1 − train/step: what the loop costs on top of the bare step, its one checkpoint save
 * included; a base-width 2-layer checkpoint (variables and slots) is about 0.5 GB, so the default
 * step counts give the save the share of a run that saves every few minutes. The last line is one
 * JSON object.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackendSelection, selectBackend } from '../lib/backend/index.js';
import { withNativeMallocTunables } from '../lib/backend/malloc-tunables.js';
import { BigBirdModel, BigBirdWeights, initialBigBirdValues } from '../lib/model/index.js';
import { sampleTokenizerDir } from '../lib/package/index.js';
import { encodeExample, floatFeature, int64Feature, TfRecordWriter } from '../lib/tfrecord/index.js';
import { AdamW, type PretrainingBatch, PretrainingInput, type TrainFlags, train } from '../lib/train/index.js';

const { values } = parseArgs({
  options: { steps: { type: 'string' }, layers: { type: 'string', default: '2' }, only: { type: 'string' }, mode: { type: 'string' } },
});
const WARM_UP = 2;
const VOCAB = 32500;
/** Each length with its timed steps (about 40 s of training on two cores, so the save is a few percent of it). */
const cases = [
  ['sparse_1024', 1024, 8],
  ['sparse_4096', 4096, 3],
] as const;
const REPORT = 'case-report ';

/**
 * A tokenizer folder of KoBigBird's vocabulary size: the sample tokenizer's special tokens and
 * settings, its vocabulary's first words (the special tokens come first) and made-up words after them.
 */
function benchTokenizer(dir: string): string {
  const folder = join(dir, 'tokenizer');
  mkdirSync(folder, { recursive: true });
  const sample = readFileSync(join(sampleTokenizerDir, 'vocab.txt'), 'utf8').split('\n').slice(0, 7);
  const words = [...sample, ...Array.from({ length: VOCAB - sample.length }, (_, i) => `w${i}`)];
  writeFileSync(join(folder, 'vocab.txt'), `${words.join('\n')}\n`);
  for (const file of ['special_tokens_map.json', 'tokenizer_config.json']) copyFileSync(join(sampleTokenizerDir, file), join(folder, file));
  return folder;
}

/** Eight records of `length` tokens, 15% of them (at most 640) prediction slots. */
async function benchData(dir: string, length: number): Promise<{ dataDir: string; predictions: number }> {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const predictions = Math.min(640, Math.round(length * 0.15));
  const writer = TfRecordWriter.open(join(dataDir, 'pretrain_data.tfrecord-0-of-1'));
  for (let e = 0; e < 8; e++) {
    const ids = Array.from({ length }, (_, i) => (i === 0 ? 2 : i === length - 1 ? 3 : 7 + ((i * 7919 + e * 104729) % (VOCAB - 7))));
    const positions = Array.from({ length: predictions }, (_, k) => 1 + Math.floor((k * (length - 2)) / predictions));
    const example = new Map([
      ['input_ids', int64Feature(ids.map((id, i) => (positions.includes(i) ? 4 : id)))],
      ['segment_ids', int64Feature(new Array<number>(length).fill(0))],
      ['masked_lm_positions', int64Feature(positions)],
      ['masked_lm_ids', int64Feature(positions.map((p) => ids[p]))],
      ['masked_lm_weights', floatFeature(new Array<number>(predictions).fill(1))],
      ['next_sentence_labels', int64Feature([0])],
    ]);
    await writer.write(encodeExample(example));
  }
  await writer.close();
  return { dataDir, predictions };
}

interface CaseReport {
  readonly tokensPerSecond: number;
  readonly seconds: number;
  /** train: the final checkpoint save, from the end of the last step to the end of the run. */
  readonly saveSeconds?: number;
  readonly backend: string;
}

/** One measurement in this process: the training loop (`train`) or the bare step (`step`). */
async function measure(mode: 'train' | 'step', length: number, steps: number): Promise<CaseReport> {
  const dir = mkdtempSync(join(tmpdir(), 'kbb-bench-train-'));
  try {
    const tokenizerDir = benchTokenizer(dir);
    const { dataDir, predictions } = await benchData(dir, length);
    const flags: Partial<TrainFlags> = {
      data_dir: dataDir,
      output_dir: join(dir, 'run'),
      tokenizer_dir: tokenizerDir,
      max_encoder_length: length,
      max_predictions_per_seq: predictions,
      max_position_embeddings: 4096,
      hidden_size: 768,
      num_attention_heads: 12,
      intermediate_size: 3072,
      num_hidden_layers: Number(values.layers),
      block_size: 64,
      train_batch_size: 1,
      num_train_steps: WARM_UP + steps,
      num_warmup_steps: 1,
      save_checkpoints_steps: WARM_UP + steps,
    };
    const backend = (await selectBackend()).backend;
    if (mode === 'train') {
      let afterWarmUp = 0;
      let lastStep = 0;
      await train({
        flags,
        onProgress: (p) => {
          if (p.step === WARM_UP) afterWarmUp = performance.now();
          lastStep = performance.now();
        },
      });
      const ended = performance.now();
      const seconds = (ended - afterWarmUp) / 1000;
      const saveSeconds = (ended - lastStep) / 1000;
      console.error(`train ${length}: ${steps} steps in ${(seconds - saveSeconds).toFixed(2)} s, then the checkpoint in ${saveSeconds.toFixed(2)} s`);
      return { tokensPerSecond: (steps * length) / seconds, seconds, saveSeconds, backend };
    }
    const result = await train({ flags: { ...flags, do_train: false } });
    const config = result.config;
    const weights = BigBirdWeights.fromArrays(config, 'pretraining', initialBigBirdValues(config, 'pretraining', 42));
    const model = new BigBirdModel({ config, weights, mode: 'train', semantics: 'tf' });
    const optimizer = new AdamW(weights.variables, { flavour: 'bert', learningRate: 1e-4 });
    const input = await PretrainingInput.open({ dataDir, seqLength: length, predictions, batchSize: 1, padId: 0, seed: 42 });
    const batch = (await input.nextBatch()) as PretrainingBatch;
    await input.close();
    const step = (): void => {
      const { loss, grads } = model.lossAndGrads({
        inputIds: batch.inputIds,
        attentionMask: batch.inputMask,
        tokenTypeIds: batch.segmentIds,
        shape: [1, length],
        maskedLm: { positions: batch.maskedLmPositions, ids: batch.maskedLmIds, weights: batch.maskedLmWeights, perExample: predictions },
        dropoutSeed: 1,
      });
      loss.dataSync();
      optimizer.applyGradients(grads, 1e-4);
      tf.dispose([loss, ...grads.values()]);
    };
    for (let i = 0; i < WARM_UP; i++) step();
    const started = performance.now();
    for (let i = 0; i < steps; i++) step();
    const seconds = (performance.now() - started) / 1000;
    console.error(`step  ${length}: ${steps} steps in ${seconds.toFixed(2)} s`);
    optimizer.dispose();
    model.dispose();
    return { tokensPerSecond: (steps * length) / seconds, seconds, backend };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const only = values.only?.split(',');
if (values.mode === 'train' || values.mode === 'step') {
  const [, length] = cases.find(([key]) => key === only?.[0]) ?? [];
  if (length === undefined) throw new Error(`bench:train: no configuration ${only?.[0]} (have ${cases.map(([key]) => key).join(', ')})`);
  if (values.mode === 'train') console.error(`backend: ${describeBackendSelection(await selectBackend())}`);
  console.log(REPORT + JSON.stringify(await measure(values.mode, length, Number(values.steps))));
} else {
  const run = (mode: 'train' | 'step', key: string, steps: number): CaseReport | undefined => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--mode', mode, '--only', key, '--steps', String(steps), '--layers', String(values.layers)],
      // Both sides run as the kbb executable does, with its malloc settings (lib/backend/malloc-tunables.ts).
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 * 2 ** 20, env: withNativeMallocTunables(process.env) },
    );
    const lines = child.stderr.split('\n').filter((line) => line.length > 0 && line.length < 400);
    if (lines.length > 0) console.error(lines.join('\n'));
    const line = child.stdout.split('\n').find((l) => l.startsWith(REPORT));
    if (child.status !== 0 || !line) {
      console.error(`${key} ${mode}: failed (exit ${child.status ?? child.signal})`);
      return undefined;
    }
    return JSON.parse(line.slice(REPORT.length)) as CaseReport;
  };
  const trainRates: Record<string, number | null> = {};
  const stepRates: Record<string, number | null> = {};
  const overhead: Record<string, number | null> = {};
  for (const [key, , defaultSteps] of cases) {
    if (only && !only.includes(key)) continue;
    const steps = values.steps === undefined ? defaultSteps : Number(values.steps);
    const looped = run('train', key, steps);
    const bare = run('step', key, steps);
    trainRates[key] = looped ? Number(looped.tokensPerSecond.toFixed(1)) : null;
    stepRates[key] = bare ? Number(bare.tokensPerSecond.toFixed(1)) : null;
    overhead[key] = looped && bare ? Number((1 - looped.tokensPerSecond / bare.tokensPerSecond).toFixed(4)) : null;
    if (overhead[key] !== null)
      console.error(
        `${key}: train ${trainRates[key]} tokens/s, bare step ${stepRates[key]} tokens/s, overhead ${(100 * overhead[key]!).toFixed(1)}% ` +
          `(the checkpoint save ${((100 * looped!.saveSeconds!) / looped!.seconds).toFixed(1)}% of the run)`,
      );
  }
  console.log(JSON.stringify({ train_tokens_per_s: trainRates, step_tokens_per_s: stepRates, overhead }));
}
