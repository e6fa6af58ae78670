import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWeightsFromCheckpoint } from '../../lib/checkpoint/index.js';
import { importFromHuggingFace } from '../../lib/convert/hf-import.js';
import { loadWeightsFromSafetensors, toHfNamed } from '../../lib/convert/index.js';
import { fullAttentionGroup } from '../../lib/model/attention.js';
import { readBigBirdConfig } from '../../lib/model/config-files.js';
import {
  type BigBirdBatch,
  type BigBirdConfig,
  type BigBirdHead,
  BigBirdModel,
  type BigBirdOutput,
  type BigBirdWeights,
  bigBirdRandomPlan,
  type RandomPlan,
} from '../../lib/model/index.js';
import { fixture, GOLDEN_BIGBIRD_CASES, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { readNpy } from '../helpers/npy.js';
import { useTestBackend } from '../helpers/tf-backend.js';

const ABS_TOLERANCE = 1e-4;
const LOSS_REL_TOLERANCE = 1e-5;

interface CaseManifest {
  readonly case: string;
  readonly model_class: 'BigBirdForMaskedLM' | 'BigBirdForPreTraining';
  readonly mode: 'eval' | 'train';
  readonly effective_attention_type: 'block_sparse' | 'original_full';
  readonly batch_size: number;
  readonly seq_len: number;
}

interface GoldenCase {
  readonly name: string;
  readonly dir: string;
  readonly manifest: CaseManifest;
  readonly config: BigBirdConfig;
  readonly head: BigBirdHead;
  readonly inputs: {
    readonly inputIds: Int32Array;
    readonly attentionMask: Int32Array;
    readonly tokenTypeIds: Int32Array;
    readonly labels: Int32Array;
    readonly nextSentenceLabel?: Int32Array;
  };
  /** rand_attn.npy as a plan (block-sparse cases). */
  readonly recordedPlan?: RandomPlan;
  readonly paddedLength: number;
}

async function loadCase(name: string): Promise<GoldenCase> {
  const dir = fixture('golden-bigbird', name);
  const manifest = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseManifest;
  const config = await readBigBirdConfig(join(dir, 'config.json'));
  const head: BigBirdHead = manifest.model_class === 'BigBirdForPreTraining' ? 'pretraining' : 'masked-lm';
  const ints = (file: string): Int32Array => readNpy(join(dir, 'inputs', file)).data as Int32Array;
  const pretraining = head === 'pretraining';
  const inputs = {
    inputIds: ints('input_ids.npy'),
    attentionMask: ints('attention_mask.npy'),
    tokenTypeIds: ints('token_type_ids.npy'),
    labels: ints('labels.npy'),
    ...(pretraining ? { nextSentenceLabel: ints('next_sentence_label.npy') } : {}),
  };
  const bs = config.block_size;
  const paddedLength = manifest.effective_attention_type === 'block_sparse' ? Math.ceil(manifest.seq_len / bs) * bs : manifest.seq_len;
  let recordedPlan: RandomPlan | undefined;
  if (manifest.effective_attention_type === 'block_sparse') {
    const npy = readNpy(join(dir, 'rand_attn.npy'));
    const [layers] = npy.shape;
    const layerSize = npy.data.length / layers;
    recordedPlan = bigBirdRandomPlan({
      sequenceLength: paddedLength,
      blockSize: bs,
      numRandomBlocks: config.num_random_blocks,
      numHeads: config.num_attention_heads,
      numLayers: config.num_hidden_layers,
      maxPositionEmbeddings: config.max_position_embeddings,
      mode: manifest.mode,
      reference: 'hf',
      explicitLayers: Array.from({ length: layers }, (_, l) => npy.data.subarray(l * layerSize, (l + 1) * layerSize)),
    });
  }
  return { name, dir, manifest, config, head, inputs, recordedPlan, paddedLength };
}

function batchOf(c: GoldenCase, plan?: RandomPlan): BigBirdBatch {
  return { ...c.inputs, shape: [c.manifest.batch_size, c.manifest.seq_len], ...(plan ? { randomPlan: plan } : {}) };
}

async function modelFor(c: GoldenCase, weights?: BigBirdWeights, warn: (m: string) => void = () => undefined): Promise<BigBirdModel> {
  const w = weights ?? (await loadWeightsFromSafetensors(join(c.dir, 'model.safetensors'), c.config, c.head));
  return new BigBirdModel({ config: c.config, weights: w, mode: c.manifest.mode, warn });
}

/** Max |a − e| over [..., B, S, X] arrays, at positions whose (padded) attention mask is 1. */
function maxErrorAtRealPositions(actual: ArrayLike<number>, expected: ArrayLike<number>, shape: readonly number[], mask: Int32Array, maskSeq: number): number {
  expect(actual.length).toBe(expected.length);
  const [batch, seq, width] = shape.slice(-3);
  const outer = expected.length / (batch * seq * width);
  let worst = 0;
  for (let o = 0; o < outer; o++) {
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < seq; s++) {
        if (s >= maskSeq || mask[b * maskSeq + s] !== 1) continue;
        const base = ((o * batch + b) * seq + s) * width;
        for (let x = 0; x < width; x++) {
          const diff = Math.abs(actual[base + x] - expected[base + x]);
          if (!(diff <= worst)) worst = Number.isNaN(diff) ? Infinity : diff;
        }
      }
    }
  }
  return worst;
}

function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= worst)) worst = Number.isNaN(diff) ? Infinity : diff;
  }
  return worst;
}

function disposeOutput(out: BigBirdOutput): void {
  const tensors: (tf.Tensor | undefined)[] = [
    out.lastHiddenState,
    ...(out.hiddenStates ?? []),
    out.logits,
    out.poolerOutput,
    out.seqRelationshipLogits,
    out.loss,
  ];
  tf.dispose(tensors.filter((t): t is tf.Tensor => t !== undefined));
}

/** What a case's forward must reproduce; returns the measured errors. */
function checkForward(c: GoldenCase, out: BigBirdOutput): Record<string, number> {
  const outputs = (file: string) => readNpy(join(c.dir, 'outputs', file));
  const { attentionMask } = c.inputs;
  const seq = c.manifest.seq_len;
  const paddedMask = new Int32Array(c.manifest.batch_size * c.paddedLength);
  for (let b = 0; b < c.manifest.batch_size; b++) paddedMask.set(attentionMask.subarray(b * seq, (b + 1) * seq), b * c.paddedLength);
  const errors: Record<string, number> = {};

  expect(out.attentionType).toBe(c.manifest.effective_attention_type);
  const last = outputs('last_hidden_state.npy');
  expect(out.lastHiddenState.shape).toEqual(last.shape);
  errors.lastHidden = maxErrorAtRealPositions(out.lastHiddenState.dataSync(), last.data, last.shape, attentionMask, seq);

  const hidden = outputs('hidden_states.npy');
  expect(out.hiddenStates!.length).toBe(hidden.shape[0]);
  const stacked = tf.tidy(() => tf.stack(out.hiddenStates!));
  expect(stacked.shape).toEqual(hidden.shape);
  errors.hiddenStates = maxErrorAtRealPositions(stacked.dataSync(), hidden.data, hidden.shape, paddedMask, c.paddedLength);
  stacked.dispose();

  const logits = outputs(c.head === 'pretraining' ? 'prediction_logits.npy' : 'logits.npy');
  expect(out.logits!.shape).toEqual(logits.shape);
  errors.logits = maxErrorAtRealPositions(out.logits!.dataSync(), logits.data, logits.shape, attentionMask, seq);

  if (c.head === 'pretraining') {
    const pooled = outputs('pooler_output.npy');
    errors.pooler = maxAbsError(out.poolerOutput!.dataSync(), pooled.data);
    const nsp = outputs('seq_relationship_logits.npy');
    errors.seqRelationship = maxAbsError(out.seqRelationshipLogits!.dataSync(), nsp.data);
  }
  const loss = outputs('loss.npy').data[0];
  errors.lossRel = Math.abs(out.loss!.dataSync()[0] - loss) / Math.abs(loss);

  for (const [what, error] of Object.entries(errors)) {
    expect(error, `${c.name}: ${what}`).toBeLessThanOrEqual(what === 'lossRel' ? LOSS_REL_TOLERANCE : ABS_TOLERANCE);
  }
  return errors;
}

describe.skipIf(!hasFixtures)('BigBird against Hugging Face 4.44.2 (golden-bigbird fixtures)', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  describe.each(GOLDEN_BIGBIRD_CASES)('%s', (name) => {
    let c: GoldenCase;
    let model: BigBirdModel;
    const warnings: string[] = [];
    beforeAll(async () => {
      c = await loadCase(name);
      model = await modelFor(c, undefined, (m) => warnings.push(m));
    });
    afterAll(() => model?.dispose());

    it('forward with the recorded random plan: hidden states, logits, heads and loss', () => {
      const before = tf.memory().numTensors;
      const out = model.forward(batchOf(c, c.recordedPlan));
      const errors = checkForward(c, out);
      console.log(`[golden] ${name} forward (recorded plan): ${JSON.stringify(errors)}`);
      disposeOutput(out);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('gradients of every parameter HF gives one', () => {
      const before = tf.memory().numTensors;
      const { loss, grads } = model.lossAndGrads(batchOf(c, c.recordedPlan));
      const expectedLoss = readNpy(join(c.dir, 'outputs', 'loss.npy')).data[0];
      expect(Math.abs(loss.dataSync()[0] - expectedLoss) / Math.abs(expectedLoss)).toBeLessThanOrEqual(LOSS_REL_TOLERANCE);
      const hfGrads = toHfNamed(grads);
      const files = (JSON.parse(readFileSync(join(c.dir, 'case.json'), 'utf8')) as { files: Record<string, unknown> }).files;
      const expectedNames = Object.keys(files)
        .filter((f) => f.startsWith('grads/'))
        .map((f) => f.slice('grads/'.length, -'.npy'.length))
        .sort();
      // The same parameters get a gradient as in HF (MaskedLM: none for the unused pooler).
      expect([...hfGrads.keys()].sort()).toEqual(expectedNames);
      let worst = 0;
      let worstName = '';
      for (const hfName of expectedNames) {
        const expected = readNpy(join(c.dir, 'grads', `${hfName}.npy`));
        const actual = hfGrads.get(hfName)!;
        expect(actual.shape, hfName).toEqual(expected.shape);
        const error = maxAbsError(actual.dataSync(), expected.data);
        expect(error, `${name}: grad of ${hfName}`).toBeLessThanOrEqual(ABS_TOLERANCE);
        if (error > worst) [worst, worstName] = [error, hfName];
      }
      console.log(
        `[golden] ${name} grads: max abs error ${worst.toExponential(2)} (${worstName}), loss rel ${(Math.abs(loss.dataSync()[0] - expectedLoss) / expectedLoss).toExponential(2)}`,
      );
      tf.dispose([loss, ...grads.values(), ...hfGrads.values()]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it("the model's own random plan is HF's (eval: all zero; train: seeded per layer) and gives the same outputs", () => {
      if (c.manifest.effective_attention_type !== 'block_sparse') {
        // Full attention draws no plan; the forward says so.
        const out = model.forward(batchOf(c), { logits: false, hiddenStates: false });
        expect(out.randomPlan).toBeUndefined();
        disposeOutput(out);
        return;
      }
      const own = model.randomPlan(c.paddedLength);
      expect(own.kind).toBe(c.manifest.mode === 'eval' ? 'eval-zero' : 'segment-plan');
      expect(own.layers.map((l) => Array.from(l))).toEqual(c.recordedPlan!.layers.map((l) => Array.from(l)));
      const out = model.forward(batchOf(c));
      expect(out.randomPlan).toBe(own);
      const errors = checkForward(c, out);
      console.log(`[golden] ${name} forward (own plan): ${JSON.stringify(errors)}`);
      disposeOutput(out);
    });
  });

  it('full attention computed one head at a time (as long inputs are) matches HF too: outputs, loss and gradients', async () => {
    const c = await loadCase('mlm_original_full_eval_s64');
    const model = await modelFor(c);
    const saved = fullAttentionGroup.bytes;
    fullAttentionGroup.bytes = 1; // one head per group
    try {
      const out = model.forward(batchOf(c));
      const errors = checkForward(c, out);
      disposeOutput(out);
      console.log(`[golden] original_full one head at a time: ${JSON.stringify(errors)}`);
      const { loss, grads } = model.lossAndGrads(batchOf(c));
      const expectedLoss = readNpy(join(c.dir, 'outputs', 'loss.npy')).data[0];
      expect(Math.abs(loss.dataSync()[0] - expectedLoss) / Math.abs(expectedLoss)).toBeLessThanOrEqual(LOSS_REL_TOLERANCE);
      const hfGrads = toHfNamed(grads);
      for (const [hfName, actual] of hfGrads) {
        const expected = readNpy(join(c.dir, 'grads', `${hfName}.npy`));
        expect(maxAbsError(actual.dataSync(), expected.data), hfName).toBeLessThanOrEqual(ABS_TOLERANCE);
      }
      tf.dispose([loss, ...grads.values(), ...hfGrads.values()]);
    } finally {
      fullAttentionGroup.bytes = saved;
      model.dispose();
    }
  });

  it('short inputs switch a block-sparse model to full attention, once and for good (HF fallback)', async () => {
    const c = await loadCase('mlm_block_sparse_eval_s32_fallback');
    const long = await loadCase('mlm_block_sparse_eval_s64');
    const warnings: string[] = [];
    const model = await modelFor(c, undefined, (m) => warnings.push(m));
    expect(c.config.attention_type).toBe('block_sparse');
    expect(model.attentionType).toBe('block_sparse');
    const first = model.forward(batchOf(c), { logits: false });
    expect(first.attentionType).toBe('original_full');
    expect(model.attentionType).toBe('original_full');
    expect(warnings).toHaveLength(1);
    disposeOutput(first);
    // Sticky: a long input afterwards still runs full attention, no second warning; it matches HF's full-attention case.
    const again = model.forward(batchOf(long), { hiddenStates: false });
    expect(again.attentionType).toBe('original_full');
    expect(warnings).toHaveLength(1);
    const full = await loadCase('mlm_original_full_eval_s64');
    const expected = readNpy(join(full.dir, 'outputs', 'logits.npy'));
    expect(
      maxErrorAtRealPositions(again.logits!.dataSync(), expected.data, expected.shape, full.inputs.attentionMask, full.manifest.seq_len),
    ).toBeLessThanOrEqual(ABS_TOLERANCE);
    disposeOutput(again);
    model.dispose();
  });

  it('weights from a TF checkpoint (importFromHuggingFace) give the same outputs as from model.safetensors', async () => {
    const c = await loadCase('pretraining_block_sparse_eval_s64');
    const out = mkdtempSync(join(tmpdir(), 'kbb-model-ckpt-'));
    try {
      const { checkpointPrefix } = await importFromHuggingFace({ hfDir: c.dir, outputDir: out });
      const fromCheckpoint = await loadWeightsFromCheckpoint(checkpointPrefix, c.config, c.head);
      expect(fromCheckpoint.unused).toEqual(['global_step']);
      const a = await modelFor(c);
      const b = await modelFor(c, fromCheckpoint);
      const outA = a.forward(batchOf(c, c.recordedPlan));
      const outB = b.forward(batchOf(c, c.recordedPlan));
      for (const key of ['lastHiddenState', 'logits', 'poolerOutput', 'seqRelationshipLogits', 'loss'] as const) {
        expect(Array.from(outB[key]!.dataSync()), key).toEqual(Array.from(outA[key]!.dataSync()));
      }
      checkForward(c, outB);
      disposeOutput(outA);
      disposeOutput(outB);
      a.dispose();
      b.dispose();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

if (!hasFixtures) console.warn(`[kbb tests] bigbird-golden: ${SKIP_NO_FIXTURES}`);
