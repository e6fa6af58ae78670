import * as tf from '@tensorflow/tfjs-core';
import { CheckpointReader } from '../checkpoint/tensor-bundle-reader.js';
import { bigBirdTfVariables, HF_BIGBIRD_TIED_PARAMETERS, hfToTfName, type NamedShape, tfToHfName, transpose2d } from '../checkpoint/hf-bigbird-names.js';
import { openSafetensors, type SafetensorsDtype } from '../checkpoint/safetensors.js';
import { decodeValues, type DType } from '../checkpoint/dtypes.js';
import { sameShape, shapeText } from '../checkpoint/shape.js';
import { type BigBirdConfig, checkModelConfig } from './bigbird-config.js';

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

/** One parameter's values in TF layout, as a loader hands them over. */
export interface NamedArray {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/**
 * BigBird's parameters as trainable `tf.Variable`s, keyed by their TF variable names (spec §3.7, TF
 * shapes: dense kernels [in, out]). The tied MLM decoder has no variable of its own: it is
 * `bert/embeddings/word_embeddings`, so its gradient lands there, as in HF and TF.
 */
export class BigBirdWeights {
  private constructor(
    readonly config: BigBirdConfig,
    readonly head: BigBirdHead,
    /** TF name → variable, in spec §3.7 order. */
    readonly variables: ReadonlyMap<string, tf.Variable>,
    /** Where the values came from, for messages. */
    readonly source: string,
    /** Names in the source that are not model parameters (optimizer slots, `global_step`, buffers, tied aliases). */
    readonly unused: readonly string[],
  ) {}

  /**
   * Weights from values already in TF layout. Every required variable must be there with its exact
   * shape; anything else in `arrays` is refused, so a typo cannot silently leave a parameter unloaded.
   */
  static fromArrays(config: BigBirdConfig, head: BigBirdHead, arrays: ReadonlyMap<string, NamedArray>, source = 'arrays', unused: readonly string[] = []): BigBirdWeights {
    checkModelConfig(config, source);
    const expected = bigBirdModelVariables(config, head);
    const known = new Set(expected.map((v) => v.name));
    const problems: string[] = [];
    for (const name of arrays.keys()) if (!known.has(name)) problems.push(`${name}: not a parameter of this ${head} model`);
    for (const { name, shape, required } of expected) {
      const got = arrays.get(name);
      if (!got) {
        if (required) problems.push(`${name} ${shapeText(shape)}: missing`);
        continue;
      }
      if (!sameShape(got.shape, shape)) problems.push(`${name}: shape ${shapeText(got.shape)} in the source, the config needs ${shapeText(shape)}`);
      else if (got.values.length !== shape.reduce((a, b) => a * b, 1)) problems.push(`${name}: ${got.values.length} values for shape ${shapeText(shape)}`);
    }
    if (problems.length > 0) throw new Error(`${source}: cannot load BigBird weights, ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    const variables = new Map<string, tf.Variable>();
    for (const { name, shape } of expected) {
      const got = arrays.get(name);
      // No variable names are passed: tfjs registers them globally, and two models must be able to coexist.
      if (!got) continue;
      // The variable shares the initial tensor's data, which stays alive for it after this handle is disposed.
      const initial = tf.tensor(got.values, [...shape], 'float32');
      variables.set(name, tf.variable(initial, true));
      initial.dispose();
    }
    return new BigBirdWeights(config, head, variables, source, unused);
  }

  /**
   * An HF `model.safetensors` (HF names, Linear weights [out, in]): renamed to TF names with the
   * existing name map, kernels transposed. Tied aliases and buffers are skipped; F16/BF16 widen to float32.
   */
  static async fromSafetensors(path: string, config: BigBirdConfig, head: BigBirdHead): Promise<BigBirdWeights> {
    const file = await openSafetensors(path);
    try {
      const arrays = new Map<string, NamedArray>();
      const unused: string[] = [];
      const expected = new Map(bigBirdModelVariables(config, head).map((v) => [v.name, v]));
      for (const [hfName, info] of file.tensors) {
        const mapped = hfToTfName(hfName);
        if (!mapped || !expected.has(mapped.tfName)) {
          if (mapped || Object.hasOwn(HF_BIGBIRD_TIED_PARAMETERS, hfName) || hfName.endsWith('position_ids')) {
            unused.push(hfName);
            continue;
          }
          throw new Error(`${path}: tensor ${hfName} ${shapeText(info.shape)} is not a BigBird parameter`);
        }
        const values = floatValues(info.dtype, await file.read(hfName), `${path}: tensor ${hfName}`);
        if (mapped.transpose) {
          if (info.shape.length !== 2) throw new Error(`${path}: tensor ${hfName} has shape ${shapeText(info.shape)}, a Linear weight is 2-D`);
          const [rows, cols] = info.shape;
          arrays.set(mapped.tfName, { shape: [cols, rows], values: transpose2d(values, rows, cols) });
        } else {
          arrays.set(mapped.tfName, { shape: info.shape, values });
        }
      }
      return BigBirdWeights.fromArrays(config, head, arrays, path, unused);
    } finally {
      await file.close();
    }
  }

  /** A KoBigBird TF checkpoint (`PREFIX.index` + data shards) under the spec §3.7 names; optimizer slots and `global_step` are ignored. */
  static async fromCheckpoint(prefix: string, config: BigBirdConfig, head: BigBirdHead): Promise<BigBirdWeights> {
    const reader = await CheckpointReader.open(prefix);
    try {
      const arrays = new Map<string, NamedArray>();
      const expected = bigBirdModelVariables(config, head);
      const wanted = new Set(expected.map((v) => v.name));
      for (const { name } of expected) {
        if (!reader.has(name)) continue; // fromArrays names what is missing
        const v = reader.variable(name);
        const tensor = await reader.read(name);
        if (!(tensor.values instanceof Float32Array) && !(tensor.values instanceof Float64Array)) {
          throw new Error(`${prefix}: variable ${name} is ${v.dtype}, not a float tensor`);
        }
        arrays.set(name, { shape: v.shape, values: tensor.values instanceof Float32Array ? tensor.values : Float32Array.from(tensor.values) });
      }
      const unused = reader.variables.map((v) => v.name).filter((name) => !wanted.has(name));
      return BigBirdWeights.fromArrays(config, head, arrays, prefix, unused);
    } finally {
      await reader.close();
    }
  }

  /** The variable of a TF name; throws naming it and the source when the model has no such parameter. */
  get(tfName: string): tf.Variable {
    const v = this.variables.get(tfName);
    if (!v) throw new Error(`${this.source}: no BigBird parameter ${tfName} (a ${this.head} model)`);
    return v;
  }

  /** Like `get`, but undefined for a parameter this model may lack (the NSP head, the pooler of a MaskedLM model, q/k/v biases without use_bias). */
  maybe(tfName: string): tf.Variable | undefined {
    return this.variables.get(tfName);
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}

function floatValues(dtype: SafetensorsDtype, bytes: Uint8Array, where: string): Float32Array {
  const tfDtype: Partial<Record<SafetensorsDtype, Exclude<DType, 'string'>>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };
  const target = tfDtype[dtype];
  if (!target) throw new Error(`${where}: dtype ${dtype} is not a float type`);
  const values = decodeValues(target, bytes);
  return values instanceof Float32Array ? values : Float32Array.from(values as Float64Array);
}

/**
 * TF-named tensors (parameters or their gradients) under HF parameter names, kernels transposed to
 * HF's [out, in], for comparing with HF. New tensors are returned; the caller disposes them.
 */
export function toHfNamed(tensors: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [tfName, tensor] of tensors) {
    const mapped = tfToHfName(tfName);
    if (!mapped) throw new Error(`toHfNamed: ${tfName} is not a BigBird TF variable name`);
    out.set(mapped.hfName, mapped.transpose ? tf.transpose(tensor) : tf.clone(tensor));
  }
  return out;
}
