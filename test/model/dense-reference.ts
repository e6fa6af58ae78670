import type { BigBirdConfig } from '../../lib/model/index.js';

/**
 * An independent float64 BigBird MaskedLM forward in plain JavaScript, written from the README of the
 * golden fixtures rather than from the model code: for every query it lists the key blocks of the ITC
 * pattern (duplicates kept), masks each key as the README's "Masking" point says, and runs one softmax
 * over the list. No blocking tricks, no gathers, no tensors: slow, and only for small models.
 */

export interface ReferenceInputs {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
  /** Per layer `[heads][nb-2][r]`, row i for query block i+1. */
  readonly plan: readonly Int32Array[];
}

export interface ReferenceOutputs {
  /** [B, S, H] */
  readonly lastHiddenState: Float64Array;
  /** [B, S, V] */
  readonly logits: Float64Array;
}

type Params = ReadonlyMap<string, Float64Array>;
const PENALTY = -10000;

function linear(x: Float64Array, rows: number, inSize: number, kernel: Float64Array, outSize: number, bias: Float64Array | undefined): Float64Array {
  const out = new Float64Array(rows * outSize);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outSize; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < inSize; i++) acc += x[r * inSize + i] * kernel[i * outSize + o];
      out[r * outSize + o] = acc;
    }
  }
  return out;
}

function layerNormRows(x: Float64Array, rows: number, size: number, gamma: Float64Array, beta: Float64Array, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < size; i++) mean += x[r * size + i];
    mean /= size;
    let variance = 0;
    for (let i = 0; i < size; i++) variance += (x[r * size + i] - mean) ** 2;
    variance /= size;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < size; i++) out[r * size + i] = (x[r * size + i] - mean) * inv * gamma[i] + beta[i];
  }
  return out;
}

const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** The key blocks of query block `qb` and, per block, whether its keys are masked by key only ('global') or by query and key. */
export function itcKeyBlocks(qb: number, nb: number, random: readonly number[]): { block: number; global: boolean }[] {
  const g = (block: number) => ({ block, global: true });
  const l = (block: number) => ({ block, global: false });
  if (qb === 0 || qb === nb - 1) return Array.from({ length: nb }, (_, b) => g(b));
  if (qb === 1) return [g(0), g(1), g(2), g(nb - 1), ...random.map(l)];
  if (qb === nb - 2) return [g(0), g(nb - 3), g(nb - 2), g(nb - 1), ...random.map(l)];
  return [g(0), l(qb - 1), l(qb), l(qb + 1), ...random.map(l), g(nb - 1)];
}

export function denseReferenceForward(config: BigBirdConfig, params: Params, inputs: ReferenceInputs): ReferenceOutputs {
  const p = (name: string): Float64Array => {
    const v = params.get(name);
    if (!v) throw new Error(`reference: no parameter ${name}`);
    return v;
  };
  const { batch, seq, inputIds, attentionMask: mask, tokenTypeIds } = inputs;
  const H = config.hidden_size;
  const heads = config.num_attention_heads;
  const d = H / heads;
  const bs = config.block_size;
  const nb = seq / bs;
  const r = config.num_random_blocks;
  const rows = batch * seq;
  const eps = config.layer_norm_eps;

  const words = p('bert/embeddings/word_embeddings');
  const types = p('bert/embeddings/token_type_embeddings');
  const positions = p('bert/embeddings/position_embeddings');
  let x: Float64Array = new Float64Array(rows * H);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const row = b * seq + s;
      for (let i = 0; i < H; i++) x[row * H + i] = words[inputIds[row] * H + i] + types[tokenTypeIds[row] * H + i] + positions[s * H + i];
    }
  }
  x = layerNormRows(x, rows, H, p('bert/encoder/LayerNorm/gamma'), p('bert/encoder/LayerNorm/beta'), eps);

  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const pre = `bert/encoder/layer_${layer}`;
    const q = linear(x, rows, H, p(`${pre}/attention/self/query/kernel`), H, p(`${pre}/attention/self/query/bias`));
    const k = linear(x, rows, H, p(`${pre}/attention/self/key/kernel`), H, p(`${pre}/attention/self/key/bias`));
    const v = linear(x, rows, H, p(`${pre}/attention/self/value/kernel`), H, p(`${pre}/attention/self/value/bias`));
    const context = new Float64Array(rows * H);
    const plan = inputs.plan[layer];
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        for (let s = 0; s < seq; s++) {
          const qb = Math.floor(s / bs);
          const random = qb === 0 || qb === nb - 1 ? [] : Array.from(plan.subarray((h * (nb - 2) + qb - 1) * r, (h * (nb - 2) + qb) * r));
          const keys: number[] = [];
          const scores: number[] = [];
          const fromMask = mask[b * seq + s];
          for (const { block, global } of itcKeyBlocks(qb, nb, random)) {
            for (let t = 0; t < bs; t++) {
              const key = block * bs + t;
              const toMask = mask[b * seq + key];
              const m = global ? toMask : fromMask * toMask;
              let dot = 0;
              for (let i = 0; i < d; i++) dot += q[(b * seq + s) * H + h * d + i] * k[(b * seq + key) * H + h * d + i];
              keys.push(key);
              scores.push(dot / Math.sqrt(d) + (1 - m) * PENALTY);
            }
          }
          const max = Math.max(...scores);
          const weights = scores.map((z) => Math.exp(z - max));
          const total = weights.reduce((a, w) => a + w, 0);
          for (let i = 0; i < d; i++) {
            let acc = 0;
            for (let j = 0; j < keys.length; j++) acc += (weights[j] / total) * v[(b * seq + keys[j]) * H + h * d + i];
            // The context of a pad query is zeroed.
            context[(b * seq + s) * H + h * d + i] = acc * fromMask;
          }
        }
      }
    }
    const attended = linear(context, rows, H, p(`${pre}/attention/output/dense/kernel`), H, p(`${pre}/attention/output/dense/bias`));
    for (let i = 0; i < attended.length; i++) attended[i] += x[i];
    const a = layerNormRows(attended, rows, H, p(`${pre}/attention/output/LayerNorm/gamma`), p(`${pre}/attention/output/LayerNorm/beta`), eps);
    const inter = linear(a, rows, H, p(`${pre}/intermediate/dense/kernel`), config.intermediate_size, p(`${pre}/intermediate/dense/bias`)).map(geluNew);
    const out = linear(inter, rows, config.intermediate_size, p(`${pre}/output/dense/kernel`), H, p(`${pre}/output/dense/bias`));
    for (let i = 0; i < out.length; i++) out[i] += a[i];
    x = layerNormRows(out, rows, H, p(`${pre}/output/LayerNorm/gamma`), p(`${pre}/output/LayerNorm/beta`), eps);
  }

  const transformed = linear(x, rows, H, p('cls/predictions/transform/dense/kernel'), H, p('cls/predictions/transform/dense/bias')).map(geluNew);
  const normed = layerNormRows(transformed, rows, H, p('cls/predictions/transform/LayerNorm/gamma'), p('cls/predictions/transform/LayerNorm/beta'), eps);
  const V = config.vocab_size;
  const bias = p('cls/predictions/output_bias');
  const logits = new Float64Array(rows * V);
  for (let row = 0; row < rows; row++) {
    for (let w = 0; w < V; w++) {
      let acc = bias[w];
      for (let i = 0; i < H; i++) acc += normed[row * H + i] * words[w * H + i];
      logits[row * V + w] = acc;
    }
  }
  return { lastHiddenState: x, logits };
}
