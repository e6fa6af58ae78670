import type { BigBirdShapeConfig } from '../model/bigbird-config.js';
import {
  type BigBirdModule,
  type BigBirdSingle,
  bigBirdTfVariables,
  EMBEDDING_NORM,
  EMBEDDINGS,
  HEAD_MODULES,
  HEAD_SINGLES,
  LAYER_MODULES,
  MODULE_LEAVES,
  type NamedShape,
} from '../model/variables.js';
import { byCodePoints } from '../text/compare-code-points.js';

/*
 * TensorFlow (KoBigBird `run_pretraining.py`) and Hugging Face (`BigBirdForPreTraining`) names of
 * the same BigBird parameters, as HF's `load_tf_weights_in_big_bird` pairs them (spec §4). TF
 * kernels are [in, out] and HF Linear weights [out, in], so kernels are transposed; the NSP head's
 * `output_weights` is already [out, in] and is not.
 */

export interface HfName {
  readonly hfName: string;
  /** The TF value is [in, out] and must be transposed to give the HF [out, in] weight (and back). */
  readonly transpose: boolean;
}

export interface TfName {
  readonly tfName: string;
  readonly transpose: boolean;
}

/**
 * HF parameters that are the same tensor as another and, as `save_pretrained` does, are left out of
 * a saved file: alias → the parameter it is tied to.
 */
export const HF_BIGBIRD_TIED_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({
  'cls.predictions.decoder.weight': 'bert.embeddings.word_embeddings.weight',
  'cls.predictions.decoder.bias': 'cls.predictions.bias',
});

/** HF's leaf names: a TF kernel [in, out] is an HF Linear weight [out, in], so it is transposed. */
const HF_LEAF: Readonly<Record<string, readonly [hf: string, transpose: boolean]>> = {
  kernel: ['weight', true],
  bias: ['bias', false],
  beta: ['bias', false],
  gamma: ['weight', false],
};

/** HF's name of every module path and single variable of lib/model/variables.ts (layer modules relative to the layer). */
const HF_PATH: Readonly<Record<string, string>> = {
  'bert/embeddings/word_embeddings': 'bert.embeddings.word_embeddings.weight',
  'bert/embeddings/token_type_embeddings': 'bert.embeddings.token_type_embeddings.weight',
  'bert/embeddings/position_embeddings': 'bert.embeddings.position_embeddings.weight',
  // KoBigBird's embedding LayerNorm lives in the encoder scope in TF; HF's converter renames it.
  'bert/encoder/LayerNorm': 'bert.embeddings.LayerNorm',
  'attention/self/query': 'attention.self.query',
  'attention/self/key': 'attention.self.key',
  'attention/self/value': 'attention.self.value',
  'attention/output/dense': 'attention.output.dense',
  'attention/output/LayerNorm': 'attention.output.LayerNorm',
  'intermediate/dense': 'intermediate.dense',
  'output/dense': 'output.dense',
  'output/LayerNorm': 'output.LayerNorm',
  // HF's loader skips path elements it has no attribute for, which is how `pooler/dense` lands on `bert.pooler`.
  'bert/pooler/dense': 'bert.pooler',
  'cls/predictions/transform/dense': 'cls.predictions.transform.dense',
  'cls/predictions/transform/LayerNorm': 'cls.predictions.transform.LayerNorm',
  // Also the tied decoder's bias in HF.
  'cls/predictions/output_bias': 'cls.predictions.bias',
  // Stored [2, hidden] in TF (used with transpose_b), already HF's [out, in].
  'cls/seq_relationship/output_weights': 'cls.seq_relationship.weight',
  'cls/seq_relationship/output_bias': 'cls.seq_relationship.bias',
};

/** One variable under both names. */
interface Leaf {
  readonly tf: string;
  readonly hf: string;
  readonly transpose: boolean;
}

const singleLeaf = (s: BigBirdSingle): Leaf => ({ tf: s.name, hf: HF_PATH[s.name], transpose: false });
const moduleLeaves = (m: BigBirdModule): Leaf[] =>
  MODULE_LEAVES[m.kind].map((leaf) => ({ tf: `${m.path}/${leaf}`, hf: `${HF_PATH[m.path]}.${HF_LEAF[leaf][0]}`, transpose: HF_LEAF[leaf][1] }));

const GLOBAL_LEAVES: readonly Leaf[] = [
  ...EMBEDDINGS.map(singleLeaf),
  ...moduleLeaves(EMBEDDING_NORM),
  ...HEAD_MODULES.flatMap(moduleLeaves),
  ...HEAD_SINGLES.map(singleLeaf),
];
const LAYER_LEAVES: readonly Leaf[] = LAYER_MODULES.flatMap(moduleLeaves);

const TF_GLOBAL = new Map(GLOBAL_LEAVES.map((leaf) => [leaf.tf, leaf]));
const HF_GLOBAL = new Map(GLOBAL_LEAVES.map((leaf) => [leaf.hf, leaf]));
const TF_LAYER = new Map(LAYER_LEAVES.map((leaf) => [leaf.tf, leaf]));
const HF_LAYER = new Map(LAYER_LEAVES.map((leaf) => [leaf.hf, leaf]));

// A canonical layer number only (no leading zeros), so that the two directions stay exact inverses.
const TF_LAYER_NAME = /^bert\/encoder\/layer_(0|[1-9]\d{0,5})\/(.+)$/;
const HF_LAYER_NAME = /^bert\.encoder\.layer\.(0|[1-9]\d{0,5})\.(.+)$/;

/**
 * The HF name of a KoBigBird TF variable, and whether its value must be transposed; undefined for
 * anything that is not a BigBird parameter: optimizer slots (`…/adam_m`, `…/adam_v`,
 * `…/AdamWeightDecayOptimizer`, `…/AdamWeightDecayOptimizer_1`), `global_step`, and BERT's
 * `bert/embeddings/LayerNorm/*` (a warm-start source, which §3.6 renames before it gets here).
 */
export function tfToHfName(tfName: string): HfName | undefined {
  const global = TF_GLOBAL.get(tfName);
  if (global) return { hfName: global.hf, transpose: global.transpose };
  const match = TF_LAYER_NAME.exec(tfName);
  const leaf = match ? TF_LAYER.get(match[2]) : undefined;
  return leaf && match ? { hfName: `bert.encoder.layer.${match[1]}.${leaf.hf}`, transpose: leaf.transpose } : undefined;
}

/**
 * The TF name of an HF BigBird parameter (the exact inverse of `tfToHfName`); undefined for the tied
 * aliases (`HF_BIGBIRD_TIED_PARAMETERS`), buffers such as `bert.embeddings.position_ids`, and
 * anything else that has no TF variable.
 */
export function hfToTfName(hfName: string): TfName | undefined {
  const global = HF_GLOBAL.get(hfName);
  if (global) return { tfName: global.tf, transpose: global.transpose };
  const match = HF_LAYER_NAME.exec(hfName);
  const leaf = match ? HF_LAYER.get(match[2]) : undefined;
  return leaf && match ? { tfName: `bert/encoder/layer_${match[1]}/${leaf.tf}`, transpose: leaf.transpose } : undefined;
}

/**
 * The parameters an HF `BigBirdForPreTraining` `model.safetensors` holds for this config, sorted by
 * name as the file lays them out: the TF variables renamed, kernels' shapes transposed, tied aliases
 * left out.
 */
export function bigBirdHfParameters(config: BigBirdShapeConfig): NamedShape[] {
  return bigBirdTfVariables(config)
    .map(({ name, shape }) => {
      const { hfName, transpose } = tfToHfName(name)!;
      return { name: hfName, shape: transpose ? [...shape].reverse() : shape };
    })
    .sort(byCodePoints((p) => p.name));
}

type Lanes = Uint8Array | Uint16Array | Uint32Array;

/**
 * Moves `words` lanes per element from [rows, cols] to [cols, rows], in 32×32 tiles so that both
 * sides stay in cache for the 768×3072 kernels.
 */
function transposeLanes<T extends Lanes>(src: T, dst: T, rows: number, cols: number, words: number): T {
  const TILE = 32;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          const from = (r * cols + c) * words;
          const to = (c * rows + r) * words;
          for (let w = 0; w < words; w++) dst[to + w] = src[from + w];
        }
      }
    }
  }
  return dst;
}

function checkDims(length: number, rows: number, cols: number): void {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0 || rows * cols !== length) {
    throw new RangeError(`transpose: ${length} elements cannot be a ${rows}×${cols} matrix`);
  }
}

/**
 * A row-major [rows, cols] matrix as a new row-major [cols, rows] one. Values move as their 32-bit
 * patterns, so NaN payloads survive (a Float32Array element read widens to float64 and may quiet them).
 */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  checkDims(data.length, rows, cols);
  const out = new Float32Array(data.length);
  transposeLanes(new Uint32Array(data.buffer, data.byteOffset, data.length), new Uint32Array(out.buffer), rows, cols, 1);
  return out;
}

/** `transpose2d` on raw bytes of any element size (2 for F16/BF16, 8 for F64/I64, …), as a safetensors or TF tensor holds them. */
export function transposeBytes2d(bytes: Uint8Array, rows: number, cols: number, elementBytes: number): Uint8Array {
  if (!Number.isSafeInteger(elementBytes) || elementBytes < 1 || bytes.length % elementBytes !== 0) {
    throw new RangeError(`transpose: ${bytes.length} bytes are not a whole number of ${elementBytes}-byte elements`);
  }
  checkDims(bytes.length / elementBytes, rows, cols);
  const out = new Uint8Array(bytes.length);
  const lane = elementBytes % 4 === 0 ? 4 : elementBytes % 2 === 0 ? 2 : 1;
  // Typed-array views need aligned offsets; a misaligned input is copied once.
  const src = bytes.byteOffset % lane === 0 ? bytes : bytes.slice();
  const view = (b: Uint8Array): Lanes =>
    lane === 4 ? new Uint32Array(b.buffer, b.byteOffset, b.length / 4) : lane === 2 ? new Uint16Array(b.buffer, b.byteOffset, b.length / 2) : b;
  transposeLanes(view(src), view(out), rows, cols, elementBytes / lane);
  return out;
}
