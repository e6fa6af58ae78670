import * as tf from '@tensorflow/tfjs-core';
import { elementCount, sameShape, shapeText } from '../tensor/shape.js';
import { type BigBirdConfig, checkModelConfig } from './bigbird-config.js';
import { type BigBirdHead, bigBirdModelVariables } from './variables.js';

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
  static fromArrays(
    config: BigBirdConfig,
    head: BigBirdHead,
    arrays: ReadonlyMap<string, NamedArray>,
    source = 'arrays',
    unused: readonly string[] = [],
  ): BigBirdWeights {
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
      else if (got.values.length !== elementCount(shape)) problems.push(`${name}: ${got.values.length} values for shape ${shapeText(shape)}`);
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
