/**
 * TensorFlow (KoBigBird `run_pretraining.py`) and Hugging Face (`BigBirdForPreTraining`) names of
 * the same BigBird parameters, as HF's `load_tf_weights_in_big_bird` pairs them (spec §4). TF
 * kernels are [in, out] and HF Linear weights [out, in], so kernels are transposed; the NSP head's
 * `output_weights` is already [out, in] and is not.
 */

/** The config fields (HF names) that decide parameter shapes. */
export interface BigBirdShapeConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly intermediate_size: number;
  readonly max_position_embeddings: number;
  readonly type_vocab_size: number;
}

/** A parameter's name and shape. */
export interface NamedShape {
  readonly name: string;
  readonly shape: readonly number[];
}

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

/** How a module's TF leaves become HF ones. */
type Kind = 'dense' | 'layerNorm';
const LEAVES: Readonly<Record<Kind, readonly (readonly [tf: string, hf: string, transpose: boolean])[]>> = {
  dense: [
    ['kernel', 'weight', true],
    ['bias', 'bias', false],
  ],
  // beta before gamma: the order of spec §3.7 (and of TF's sorted variable listing).
  layerNorm: [
    ['beta', 'bias', false],
    ['gamma', 'weight', false],
  ],
};

/** A module: TF path, HF path, kind, and the [in, out] of a dense (or the size of a LayerNorm). */
interface Module {
  readonly tf: string;
  readonly hf: string;
  readonly kind: Kind;
  readonly dims: (c: BigBirdShapeConfig) => readonly number[];
}
/** A single variable that has no kernel/bias leaf of its own. */
interface Single {
  readonly tf: string;
  readonly hf: string;
  readonly transpose: false;
  readonly shape: (c: BigBirdShapeConfig) => readonly number[];
}

const hidden = (c: BigBirdShapeConfig): readonly number[] => [c.hidden_size];
const square = (c: BigBirdShapeConfig): readonly number[] => [c.hidden_size, c.hidden_size];

const EMBEDDINGS: readonly Single[] = [
  { tf: 'bert/embeddings/word_embeddings', hf: 'bert.embeddings.word_embeddings.weight', transpose: false, shape: (c) => [c.vocab_size, c.hidden_size] },
  { tf: 'bert/embeddings/token_type_embeddings', hf: 'bert.embeddings.token_type_embeddings.weight', transpose: false, shape: (c) => [c.type_vocab_size, c.hidden_size] },
  { tf: 'bert/embeddings/position_embeddings', hf: 'bert.embeddings.position_embeddings.weight', transpose: false, shape: (c) => [c.max_position_embeddings, c.hidden_size] },
];
// KoBigBird's embedding LayerNorm lives in the encoder scope in TF; HF's converter renames it.
const EMBEDDING_NORM: Module = { tf: 'bert/encoder/LayerNorm', hf: 'bert.embeddings.LayerNorm', kind: 'layerNorm', dims: hidden };

/** Per-layer modules, relative to `bert/encoder/layer_N/` and `bert.encoder.layer.N.`. */
const LAYER: readonly Module[] = [
  { tf: 'attention/self/query', hf: 'attention.self.query', kind: 'dense', dims: square },
  { tf: 'attention/self/key', hf: 'attention.self.key', kind: 'dense', dims: square },
  { tf: 'attention/self/value', hf: 'attention.self.value', kind: 'dense', dims: square },
  { tf: 'attention/output/dense', hf: 'attention.output.dense', kind: 'dense', dims: square },
  { tf: 'attention/output/LayerNorm', hf: 'attention.output.LayerNorm', kind: 'layerNorm', dims: hidden },
  { tf: 'intermediate/dense', hf: 'intermediate.dense', kind: 'dense', dims: (c) => [c.hidden_size, c.intermediate_size] },
  { tf: 'output/dense', hf: 'output.dense', kind: 'dense', dims: (c) => [c.intermediate_size, c.hidden_size] },
  { tf: 'output/LayerNorm', hf: 'output.LayerNorm', kind: 'layerNorm', dims: hidden },
];

// HF's loader skips path elements it has no attribute for, which is how `pooler/dense` lands on `bert.pooler`.
const HEAD_MODULES: readonly Module[] = [
  { tf: 'bert/pooler/dense', hf: 'bert.pooler', kind: 'dense', dims: square },
  { tf: 'cls/predictions/transform/dense', hf: 'cls.predictions.transform.dense', kind: 'dense', dims: square },
  { tf: 'cls/predictions/transform/LayerNorm', hf: 'cls.predictions.transform.LayerNorm', kind: 'layerNorm', dims: hidden },
];
const HEAD_SINGLES: readonly Single[] = [
  // Also the tied decoder's bias in HF.
  { tf: 'cls/predictions/output_bias', hf: 'cls.predictions.bias', transpose: false, shape: (c) => [c.vocab_size] },
  // Stored [2, hidden] in TF (used with transpose_b), already HF's [out, in].
  { tf: 'cls/seq_relationship/output_weights', hf: 'cls.seq_relationship.weight', transpose: false, shape: (c) => [2, c.hidden_size] },
  { tf: 'cls/seq_relationship/output_bias', hf: 'cls.seq_relationship.bias', transpose: false, shape: () => [2] },
];

interface Leaf {
  readonly tf: string;
  readonly hf: string;
  readonly transpose: boolean;
  readonly shape: (c: BigBirdShapeConfig) => readonly number[];
}

function leaves(module: Module, tfPrefix = '', hfPrefix = ''): Leaf[] {
  return LEAVES[module.kind].map(([tfLeaf, hfLeaf, transpose]) => ({
    tf: `${tfPrefix}${module.tf}/${tfLeaf}`,
    hf: `${hfPrefix}${module.hf}.${hfLeaf}`,
    transpose,
    // A kernel is [in, out]; its bias and a LayerNorm's parameters are as long as the output.
    shape: (c: BigBirdShapeConfig) => {
      const dims = module.dims(c);
      return tfLeaf === 'kernel' ? dims : [dims[dims.length - 1]];
    },
  }));
}

const BEFORE_LAYERS: readonly Leaf[] = [...EMBEDDINGS, ...leaves(EMBEDDING_NORM)];
const AFTER_LAYERS: readonly Leaf[] = [...HEAD_MODULES.flatMap((m) => leaves(m)), ...HEAD_SINGLES];
const GLOBAL_LEAVES: readonly Leaf[] = [...BEFORE_LAYERS, ...AFTER_LAYERS];
const LAYER_LEAVES: readonly Leaf[] = LAYER.flatMap((m) => leaves(m));

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

function checkConfig(config: BigBirdShapeConfig): void {
  for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const) {
    const value = config[key];
    if (!Number.isSafeInteger(value) || value < (key === 'num_hidden_layers' ? 0 : 1)) {
      throw new RangeError(`BigBird config: ${key} is ${JSON.stringify(value)}, expected a positive integer`);
    }
  }
}

/**
 * Every trainable TF variable of KoBigBird's `BigBirdForPreTraining`-shaped model (MLM and NSP
 * heads, pooler), with shapes, in the order of spec §3.7: embeddings, embedding LayerNorm, the
 * layers, pooler, heads. No optimizer slots and no `global_step`.
 */
export function bigBirdTfVariables(config: BigBirdShapeConfig): NamedShape[] {
  checkConfig(config);
  const out: NamedShape[] = [];
  const add = (leaf: Leaf, name = leaf.tf): void => void out.push({ name, shape: [...leaf.shape(config)] });
  for (const leaf of BEFORE_LAYERS) add(leaf);
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    for (const leaf of LAYER_LEAVES) add(leaf, `bert/encoder/layer_${layer}/${leaf.tf}`);
  }
  for (const leaf of AFTER_LAYERS) add(leaf);
  return out;
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
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Elements of a tensor of this shape. */
export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

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
