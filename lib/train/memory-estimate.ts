import { totalmem } from 'node:os';
import type { BigBirdConfig } from '../model/bigbird-config.js';
import { bigBirdModelVariables } from '../model/variables.js';
import { elementCount } from '../tensor/shape.js';

/** What a training step holds at its peak, in bytes, by what holds it. */
export interface TrainingMemoryEstimate {
  /** The model's variables. */
  readonly weights: number;
  /** AdamWeightDecay's two moments per trained variable. */
  readonly optimizer: number;
  /** One gradient per variable, twice with gradient accumulation (the sum and the newest). */
  readonly gradients: number;
  /** What the forward pass keeps for the backward pass, and the largest transient of either. */
  readonly activations: number;
  readonly total: number;
}

export interface TrainingShape {
  /** Examples per batch. */
  readonly batchSize: number;
  /** Tokens per example. */
  readonly seqLength: number;
  /** Prediction slots per example. */
  readonly predictions: number;
  /** The attention that runs (`original_full` at ≤ 512 tokens whatever the config says). */
  readonly attention: 'block_sparse' | 'original_full';
  /** More than 1: gradients are summed across batches. */
  readonly accumulation?: number;
}

const FLOAT = 4;
/** What kernels allocate beside their outputs, index tensors, host-made masks: a fixed margin. */
const KERNEL_SCRATCH = 48 * 2 ** 20;

/**
 * An upper estimate of a training step's peak of live tensor data, for refusing up front what cannot
 * fit: the weights, the optimizer's moments and the gradients, what the forward pass keeps for the
 * backward pass, and the largest transient. test/train/memory-estimate.test.ts checks it against
 * measured steps; at base width it is within a few percent of bench:model's measured peaks.
 */
export function estimateTrainingMemory(config: BigBirdConfig, shape: TrainingShape): TrainingMemoryEstimate {
  const { batchSize: b, seqLength: s, predictions: p } = shape;
  const h = config.hidden_size;
  const i = config.intermediate_size;
  const heads = config.num_attention_heads;
  const d = h / heads;
  const variables = bigBirdModelVariables(config, 'pretraining');
  const parameters = variables.reduce((n, v) => n + elementCount(v.shape), 0);
  const largest = variables.reduce((most, v) => Math.max(most, elementCount(v.shape)), 0);

  const weights = parameters * FLOAT;
  const optimizer = 2 * parameters * FLOAT;
  const gradients = ((shape.accumulation ?? 1) > 1 ? 2 : 1) * parameters * FLOAT;
  // Kept from the forward pass for the backward pass, per layer with attention and gelu recomputed:
  // the layer input, q, k, v, the attention context, and the two sub-layers' dense outputs, dropout
  // masks and LayerNorm inputs; the embeddings' sum, mask and norm; the head's logits and log-softmax.
  const perLayer = (14 * b * s * h + 3 * b * s * i) * FLOAT;
  const embeddings = 8 * b * s * h * FLOAT;
  const logits = b * p * config.vocab_size * FLOAT;
  const head = 6 * b * p * h * FLOAT + 3 * logits;
  const saved = embeddings + config.num_hidden_layers * perLayer + head;
  // The largest transient on top: the head's backward pass (gradients of the logits and of their
  // log-softmax, the scatter of the picked labels), one layer's attention recomputed in the backward
  // pass, or the optimizer's update of the largest variable.
  let attention: number;
  if (shape.attention === 'original_full') {
    // Heads run in groups of at most 64 MiB of scores: a group's scores, probabilities, dropout mask and gradients.
    const perHead = b * s * s * FLOAT;
    attention = 6 * Math.max(perHead, Math.min(heads * perHead, 64 * 2 ** 20));
  } else {
    const bs = config.block_size;
    const blocks = Math.ceil(s / bs);
    const slots = 5 + config.num_random_blocks;
    const band = b * heads * blocks * bs * slots * bs * FLOAT;
    const gathered = 2 * b * heads * blocks * slots * bs * d * FLOAT;
    attention = 4 * band + 2 * gathered;
  }
  const update = 3 * largest * FLOAT;
  const transient = Math.max(5 * logits, attention, update);
  const activations = saved + transient + KERNEL_SCRATCH;
  return { weights, optimizer, gradients, activations, total: weights + optimizer + gradients + activations };
}

/** The wasm backend's heap: 4 GiB of 32-bit addresses. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** The wasm heap grows by about this much more than the live tensor data at a step's peak (fragmentation; bench:model measured 1.40 at 4096 tokens). */
const WASM_HEAP_PER_DATA_BYTE = 1.45;

/**
 * How much tensor data a backend holds, and why; undefined where kbb cannot tell (a GPU's memory).
 * wasm is capped by its 4 GiB heap, cpu and tensorflow on the CPU by the machine's memory.
 */
export function trainingMemoryLimit(backend: string, gpu = false): { readonly bytes: number; readonly why: string } | undefined {
  if (backend === 'wasm') return { bytes: WASM_HEAP_BYTES / WASM_HEAP_PER_DATA_BYTE, why: "wasm's 4 GiB heap, less what it loses to fragmentation" };
  if (gpu) return undefined;
  return { bytes: totalmem() * 0.8, why: "80% of this machine's memory" };
}
