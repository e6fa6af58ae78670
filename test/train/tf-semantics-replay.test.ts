import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointReader, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { bigBirdModelVariables, hfConfigFromTf } from '../../lib/model/index.js';
import { PyRandom } from '../../lib/random/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { encodeExample, floatFeature, int64Feature, TfRecordWriter } from '../../lib/tfrecord/index.js';
import { adamSlotNames, type PretrainingBatch, PretrainingInput, pretrainConfig, TRAIN_DEFAULTS, type TrainFlags, train } from '../../lib/train/index.js';
import { hasPythonNumpy, runTfReplay, SKIP_NO_TF_REPLAY, type TfReplayBatch, type TfReplayTensor } from '../helpers/bigbird-tf-replay.js';
import { projectRoot } from '../helpers/fixtures.js';
import { useTestBackend } from '../helpers/tf-backend.js';

/**
 * `kbb train` against an independent float64 NumPy replay of KoBigBird's TF trainer
 * (test/helpers/bigbird_tf_replay.py, its backward pass written by hand and checked by finite
 * differences). A tiny model is trained for three updates from a BigBird checkpoint written here, on
 * TFRecords written here, with dropout off; the replay gets the same starting weights and the same
 * batches, read with the trainer's own input. Where the TF trainer and Hugging Face differ, this holds
 * kbb to the TF side:
 *  - full attention at ≤ 512 tokens, with the `from ⊗ to` mask (examples end in padding);
 *  - the loss Σ w·(−log p) / (Σ w + 1e-5), padding slots of weight 0 included;
 *  - no padding row in the word embeddings: [PAD]'s row gets the tied decoder's gradient and decay;
 *  - the dense update: every row of every decayed variable moves every step; the pooler and the NSP
 *    head get no gradient, no slots and no decay;
 *  - AdamWeightDecay without bias correction, decay skipped for LayerNorm and biases, the rate taken
 *    at the step before the update (0 for the first), and gradients of accumulated batches averaged.
 */

const SEQ = 16;
const PREDICTIONS = 4;
const TINY: Partial<TrainFlags> = {
  max_encoder_length: SEQ,
  max_predictions_per_seq: PREDICTIONS,
  max_position_embeddings: 20,
  hidden_size: 8,
  num_attention_heads: 2,
  num_hidden_layers: 2,
  intermediate_size: 16,
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
  block_size: 4,
  train_batch_size: 2,
  num_train_steps: 3,
  num_warmup_steps: 1,
  learning_rate: 0.01,
  // Large enough that decay is a visible part of every update (and a decay applied wrongly would show).
  weight_decay_rate: 0.5,
  save_checkpoints_steps: 100,
  seed: 11,
};

let dir = '';
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');

beforeAll(async () => {
  await useTestBackend();
  dir = mkdtempSync(join(tmpdir(), 'kbb-tf-replay-'));
  // Twelve examples of 16 tokens ending in 2-6 pads, each with 1-4 weighted prediction slots.
  const rng = new PyRandom(3);
  mkdirSync(join(dir, 'data'));
  const writer = TfRecordWriter.open(join(dir, 'data', 'pretrain_data.tfrecord-0-of-1'));
  for (let e = 0; e < 12; e++) {
    const length = SEQ - 2 - rng.randbelow(5);
    const ids = Array.from({ length: SEQ }, (_, i) => (i === 0 ? 2 : i === length - 1 ? 3 : i < length ? 7 + rng.randbelow(60) : 0));
    const real = 1 + rng.randbelow(PREDICTIONS);
    const positions = rng
      .shuffle(Array.from({ length: length - 2 }, (_, i) => i + 1))
      .slice(0, real)
      .sort((a, b) => a - b);
    const labels = positions.map(() => 7 + rng.randbelow(60));
    const pad = (values: number[], fill: number): number[] => [...values, ...new Array<number>(PREDICTIONS - values.length).fill(fill)];
    const example = new Map([
      ['input_ids', int64Feature(ids)],
      ['segment_ids', int64Feature(new Array<number>(SEQ).fill(0))],
      ['masked_lm_positions', int64Feature(pad(positions, 0))],
      ['masked_lm_ids', int64Feature(pad(labels, 0))],
      [
        'masked_lm_weights',
        floatFeature(
          pad(
            positions.map(() => 1),
            0,
          ),
        ),
      ],
      ['next_sentence_labels', int64Feature([0])],
    ]);
    await writer.write(encodeExample(example));
  }
  await writer.close();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The model config `kbb train` builds for these flags and the sample tokenizer. */
function tinyConfig(flags: TrainFlags) {
  const ids = { pad_token_id: 0, unk_token_id: 1, cls_token_id: 2, sep_token_id: 3, mask_token_id: 4, bos_token_id: 5, eos_token_id: 6 };
  return hfConfigFromTf(pretrainConfig(flags, { vocabSize: 3000, ids }));
}

/** A BigBird checkpoint of random weights of a realistic scale (LayerNorm γ near 1). */
async function initialCheckpoint(flags: TrainFlags): Promise<{ prefix: string; weights: Record<string, TfReplayTensor> }> {
  const rng = new PyRandom(5);
  const weights: Record<string, TfReplayTensor> = {};
  const tensors: TensorToWrite[] = [];
  for (const { name, shape } of bigBirdModelVariables(tinyConfig(flags), 'pretraining')) {
    const values = Float32Array.from({ length: elementCount(shape) }, () => (name.endsWith('gamma') ? 1 : 0) + (rng.random() - 0.5) * 0.4);
    weights[name] = { shape: [...shape], values: Array.from(values) };
    tensors.push({ name, dtype: 'float32', shape, data: new Uint8Array(values.buffer) });
  }
  const prefix = join(dir, `init-${Object.keys(weights).length}`, 'model.ckpt-0');
  await writeCheckpoint(prefix, tensors);
  return { prefix, weights };
}

/** The batches the trainer reads, in its order (the same input, opened afresh). */
async function trainerBatches(flags: TrainFlags, count: number): Promise<TfReplayBatch[]> {
  const input = await PretrainingInput.open({
    dataDir: flags.data_dir,
    seqLength: SEQ,
    predictions: PREDICTIONS,
    batchSize: flags.train_batch_size,
    padId: 0,
    seed: flags.seed,
  });
  const rows = (values: ArrayLike<number>, width: number, b: number): number[][] =>
    Array.from({ length: b }, (_, r) => Array.from(values).slice(r * width, (r + 1) * width));
  const out: TfReplayBatch[] = [];
  for (let i = 0; i < count; i++) {
    const batch = (await input.nextBatch()) as PretrainingBatch;
    out.push({
      input_ids: rows(batch.inputIds, SEQ, batch.size),
      segment_ids: rows(batch.segmentIds, SEQ, batch.size),
      masked_lm_positions: rows(batch.maskedLmPositions, PREDICTIONS, batch.size),
      masked_lm_ids: rows(batch.maskedLmIds, PREDICTIONS, batch.size),
      masked_lm_weights: rows(batch.maskedLmWeights, PREDICTIONS, batch.size),
    });
  }
  await input.close();
  return out;
}

/** Largest (|got − expected| − slack) / |expected − start|: how far off `got` is, as a share of the move from `start`. */
function worstBeyond(got: ArrayLike<number>, expected: ArrayLike<number>, start: ArrayLike<number>, slack: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const off = Math.abs(got[i] - expected[i]) - slack;
    if (off > 0) worst = Math.max(worst, off / Math.abs(expected[i] - start[i]));
  }
  return worst;
}

/** Largest |a − b| / (|b| + 1e-3) over two arrays. */
function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + 1e-3));
  return worst;
}

describe.skipIf(!hasPythonNumpy)('kbb train against a float64 replay of the TF trainer', () => {
  for (const accumulation of [1, 2]) {
    it(`three updates${accumulation > 1 ? `, each averaging ${accumulation} batches,` : ''} give the replay's losses, weights and slots`, async () => {
      const flags: TrainFlags = {
        ...TRAIN_DEFAULTS,
        ...TINY,
        gradient_accumulation_steps: accumulation,
        data_dir: join(dir, 'data'),
        tokenizer_dir: tokenizerDir,
      };
      const init = await initialCheckpoint(flags);
      const outputDir = join(dir, `run-${accumulation}`);
      const losses: number[] = [];
      const result = await train({ flags: { ...flags, init_checkpoint: init.prefix, output_dir: outputDir }, onProgress: (p) => losses.push(p.loss) });
      expect(result.finalStep).toBe(3);

      const config = tinyConfig(flags);
      const replay = await runTfReplay({
        config: {
          vocab_size: config.vocab_size,
          hidden_size: config.hidden_size,
          num_hidden_layers: config.num_hidden_layers,
          num_attention_heads: config.num_attention_heads,
          intermediate_size: config.intermediate_size,
          max_position_embeddings: config.max_position_embeddings,
          type_vocab_size: config.type_vocab_size,
          layer_norm_eps: config.layer_norm_eps,
          pad_token_id: 0,
        },
        weights: init.weights,
        batches: await trainerBatches(flags, 3 * accumulation),
        optimizer: {
          learning_rate: flags.learning_rate,
          num_warmup_steps: flags.num_warmup_steps,
          num_train_steps: flags.num_train_steps,
          weight_decay_rate: flags.weight_decay_rate,
          beta1: flags.optimizer_beta1,
          beta2: flags.optimizer_beta2,
          epsilon: flags.optimizer_epsilon,
        },
        accumulate: accumulation,
      });
      // Warm-up of one step (rate 0 for the first update), then decay measured from step 0 to 0 at step 3.
      replay.learning_rates.forEach((rate, i) => {
        expect(rate).toBeCloseTo([0, 0.01 * (2 / 3), 0.01 * (1 / 3)][i], 12);
      });
      const replayLosses = Array.from(
        { length: 3 },
        (_, s) => replay.losses.slice(s * accumulation, (s + 1) * accumulation).reduce((a, b) => a + b, 0) / accumulation,
      );
      expect(worstRelative(losses, replayLosses), `losses ${losses} vs ${replayLosses}`).toBeLessThan(1e-5);

      const reader = await CheckpointReader.open(join(outputDir, 'model.ckpt-3'));
      try {
        expect((await reader.read('global_step')).values).toEqual(new BigInt64Array([3n]));
        const names = reader.variables.map((v) => v.name).filter((name) => name !== 'global_step');
        const slots = names.filter((name) => name.includes('/AdamWeightDecayOptimizer'));
        // Slots exactly for the variables the loss reaches: not the pooler, not the NSP head.
        expect(slots.sort()).toEqual(Object.keys(replay.slots).sort());
        expect(slots.some((name) => name.startsWith('bert/pooler') || name.startsWith('cls/seq_relationship'))).toBe(false);
        for (const name of Object.keys(init.weights)) {
          const got = (await reader.read(name)).values as Float32Array;
          // float32 against float64: within 1e-6 plus 0.5% of how far the replay moved the value. (Adam
          // turns a gradient's rounding noise into a step of up to the learning rate where the
          // gradient is near zero — a key bias's is exactly zero in exact arithmetic.)
          expect(worstBeyond(got, replay.weights[name], init.weights[name].values, 1e-6), name).toBeLessThan(5e-3);
        }
        // Moments start at 0: within 0.5% of their value, plus a slack of 1e-5 of the largest first or second moment.
        const largest = (suffix: string): number =>
          Math.max(...Object.entries(replay.slots).flatMap(([name, values]) => (name.endsWith(suffix) ? values.map(Math.abs) : [])));
        const slack = { m: 1e-5 * largest('Optimizer'), v: 1e-5 * largest('Optimizer_1') };
        for (const [name, expected] of Object.entries(replay.slots)) {
          const got = (await reader.read(name)).values as Float32Array;
          const zeros = new Array<number>(expected.length).fill(0);
          expect(worstBeyond(got, expected, zeros, name.endsWith('_1') ? slack.v : slack.m), name).toBeLessThan(5e-3);
        }
        // [PAD]'s row (id 0) moved: the tied decoder's gradient and weight decay reach it.
        const word = (await reader.read('bert/embeddings/word_embeddings')).values as Float32Array;
        expect(Array.from(word.subarray(0, 8))).not.toEqual(init.weights['bert/embeddings/word_embeddings'].values.slice(0, 8).map(Math.fround));
        // Unused rows of the position table still decay (dense update): rows 16..19 are never read.
        const positions = (await reader.read('bert/embeddings/position_embeddings')).values as Float32Array;
        const before = init.weights['bert/embeddings/position_embeddings'].values;
        expect(positions[16 * 8]).not.toBe(Math.fround(before[16 * 8]));
        expect(worstRelative(positions.subarray(16 * 8), replay.weights['bert/embeddings/position_embeddings'].slice(16 * 8))).toBeLessThan(1e-6);
        for (const name of ['bert/pooler/dense/kernel', 'cls/seq_relationship/output_weights']) {
          expect(Array.from((await reader.read(name)).values as Float32Array)).toEqual(init.weights[name].values.map(Math.fround));
        }
        expect(adamSlotNames('bert/pooler/dense/kernel').m).toBe('bert/pooler/dense/kernel/AdamWeightDecayOptimizer');
      } finally {
        await reader.close();
      }
    }, 120_000);
  }
});

if (!hasPythonNumpy) console.warn(`[kbb tests] ${SKIP_NO_TF_REPLAY}`);
