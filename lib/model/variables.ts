import type { BigBirdConfig, BigBirdShapeConfig } from './bigbird-config.js';

/*
 * BigBird's parameters, under the TensorFlow variable names KoBigBird's checkpoints use (spec §3.7),
 * which are the model's own names. Dense kernels are [in, out]. How Hugging Face names the same
 * parameters is conversion: lib/convert/hf-names.ts.
 */

/** A parameter's name and shape. */
export interface NamedShape {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A variable a warm start or a conversion leaves out, and why. */
export interface SkippedVariable extends NamedShape {
  readonly reason: string;
}

/** A dense layer has a `kernel` [in, out] and a `bias` [out]; a LayerNorm a `beta` and a `gamma` [size]. */
export type ModuleKind = 'dense' | 'layerNorm';

/** A module's leaves in spec §3.7 order (beta before gamma, as TF's sorted listing has them). */
export const MODULE_LEAVES: Readonly<Record<ModuleKind, readonly string[]>> = {
  dense: ['kernel', 'bias'],
  layerNorm: ['beta', 'gamma'],
};

/** A module: its variable path, its kind, and the [in, out] of a dense layer or the [size] of a LayerNorm. */
export interface BigBirdModule {
  readonly path: string;
  readonly kind: ModuleKind;
  readonly dims: (config: BigBirdShapeConfig) => readonly number[];
}

/** A variable that is not a leaf of a module. */
export interface BigBirdSingle {
  readonly name: string;
  readonly shape: (config: BigBirdShapeConfig) => readonly number[];
}

const hidden = (c: BigBirdShapeConfig): readonly number[] => [c.hidden_size];
const square = (c: BigBirdShapeConfig): readonly number[] => [c.hidden_size, c.hidden_size];

export const EMBEDDINGS: readonly BigBirdSingle[] = [
  { name: 'bert/embeddings/word_embeddings', shape: (c) => [c.vocab_size, c.hidden_size] },
  { name: 'bert/embeddings/token_type_embeddings', shape: (c) => [c.type_vocab_size, c.hidden_size] },
  { name: 'bert/embeddings/position_embeddings', shape: (c) => [c.max_position_embeddings, c.hidden_size] },
];

/** KoBigBird keeps the embedding LayerNorm in the encoder scope. */
export const EMBEDDING_NORM: BigBirdModule = { path: 'bert/encoder/LayerNorm', kind: 'layerNorm', dims: hidden };

/** The modules of one encoder layer, relative to `layerPrefix(n)`. */
export const LAYER_MODULES: readonly BigBirdModule[] = [
  { path: 'attention/self/query', kind: 'dense', dims: square },
  { path: 'attention/self/key', kind: 'dense', dims: square },
  { path: 'attention/self/value', kind: 'dense', dims: square },
  { path: 'attention/output/dense', kind: 'dense', dims: square },
  { path: 'attention/output/LayerNorm', kind: 'layerNorm', dims: hidden },
  { path: 'intermediate/dense', kind: 'dense', dims: (c) => [c.hidden_size, c.intermediate_size] },
  { path: 'output/dense', kind: 'dense', dims: (c) => [c.intermediate_size, c.hidden_size] },
  { path: 'output/LayerNorm', kind: 'layerNorm', dims: hidden },
];

export const layerPrefix = (layer: number): string => `bert/encoder/layer_${layer}/`;

export const HEAD_MODULES: readonly BigBirdModule[] = [
  { path: 'bert/pooler/dense', kind: 'dense', dims: square },
  { path: 'cls/predictions/transform/dense', kind: 'dense', dims: square },
  { path: 'cls/predictions/transform/LayerNorm', kind: 'layerNorm', dims: hidden },
];

export const HEAD_SINGLES: readonly BigBirdSingle[] = [
  // The MLM decoder is the word-embedding table itself (tied); this is its bias.
  { name: 'cls/predictions/output_bias', shape: (c) => [c.vocab_size] },
  // [2, hidden], used with transpose_b.
  { name: 'cls/seq_relationship/output_weights', shape: (c) => [2, c.hidden_size] },
  { name: 'cls/seq_relationship/output_bias', shape: () => [2] },
];

/** The shape of a module's leaf: a kernel is [in, out]; its bias and a LayerNorm's parameters are as long as the output. */
export function leafShape(module: BigBirdModule, leaf: string, config: BigBirdShapeConfig): readonly number[] {
  const dims = module.dims(config);
  return leaf === 'kernel' ? dims : [dims[dims.length - 1]];
}

function checkShapeConfig(config: BigBirdShapeConfig): void {
  for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const) {
    const value = config[key];
    if (!Number.isSafeInteger(value) || value < (key === 'num_hidden_layers' ? 0 : 1)) {
      throw new RangeError(`BigBird config: ${key} is ${JSON.stringify(value)}, expected a positive integer`);
    }
  }
}

/**
 * Every trainable variable of KoBigBird's `BigBirdForPreTraining`-shaped model (MLM and NSP heads,
 * pooler), with shapes, in the order of spec §3.7: embeddings, embedding LayerNorm, the layers,
 * pooler, heads. No optimizer slots and no `global_step`.
 */
export function bigBirdTfVariables(config: BigBirdShapeConfig): NamedShape[] {
  checkShapeConfig(config);
  const out: NamedShape[] = [];
  const single = (s: BigBirdSingle): void => void out.push({ name: s.name, shape: [...s.shape(config)] });
  const module = (m: BigBirdModule, prefix = ''): void => {
    for (const leaf of MODULE_LEAVES[m.kind]) out.push({ name: `${prefix}${m.path}/${leaf}`, shape: [...leafShape(m, leaf, config)] });
  };
  for (const s of EMBEDDINGS) single(s);
  module(EMBEDDING_NORM);
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    for (const m of LAYER_MODULES) module(m, layerPrefix(layer));
  }
  for (const m of HEAD_MODULES) module(m);
  for (const s of HEAD_SINGLES) single(s);
  return out;
}

/** Which model the weights are for: HF's `BigBirdForMaskedLM` (no NSP head) or `BigBirdForPreTraining`. */
export type BigBirdHead = 'masked-lm' | 'pretraining';

/** Parameters a model of this head can run without: MaskedLM never uses the NSP head, and its pooler only feeds nothing. */
const OPTIONAL_FOR: Readonly<Record<BigBirdHead, readonly string[]>> = {
  'masked-lm': ['bert/pooler/dense/kernel', 'bert/pooler/dense/bias', 'cls/seq_relationship/output_weights', 'cls/seq_relationship/output_bias'],
  pretraining: [],
};

/**
 * The TF variables (spec §3.7 names and shapes) a model of this config uses, each marked required or
 * not. With `use_bias: false` HF's query/key/value have no bias, so those variables are left out.
 */
export function bigBirdModelVariables(config: BigBirdConfig, head: BigBirdHead): (NamedShape & { readonly required: boolean })[] {
  const optional = new Set(OPTIONAL_FOR[head]);
  return bigBirdTfVariables(config)
    .filter(({ name }) => config.use_bias || !/\/attention\/self\/(query|key|value)\/bias$/.test(name))
    .map((v) => ({ ...v, required: !optional.has(v.name) }));
}
