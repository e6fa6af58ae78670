import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';

/**
 * How many bytes of activations a training step may keep for its backward pass before the model
 * recomputes them instead (lib/autodiff/recompute.ts): a quarter of the 4 GB heap on wasm, an eighth
 * of the machine's memory elsewhere (3 GiB on 24 GiB). Recomputing costs a second forward pass of
 * the attention, 10–15% of a short step; keeping costs memory: a 12-layer base model at 4096 tokens
 * peaked at 11.0 GiB recomputing and 15.7 GiB keeping.
 */
export function activationBudgetBytes(backend: string = tf.getBackend()): number {
  return backend === 'wasm' ? 2 ** 30 : totalmem() / 8;
}
