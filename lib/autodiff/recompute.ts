import * as tf from '@tensorflow/tfjs-core';
import { leanGradients } from './lean-gradients.js';

/**
 * `f` as one op whose backward pass recomputes `f` from its inputs (activation checkpointing): the
 * training tape keeps only the inputs, not the dozen intermediates `f` makes. For BigBird's attention
 * core (q, k, v → context: gathered key/value blocks, scores, softmax, at 4096 tokens about 90 MiB
 * each) and the gelu of the 3072-wide intermediate layer (seven saved products of 48 MiB), the
 * intermediates were most of a training step's memory.
 *
 * The backward pass runs `f` again under a tape and takes the vector-Jacobian product with the same
 * gradient functions in the same order (lib/autodiff/lean-gradients.ts), so the input gradients are the
 * ones plain autograd gives, bit for bit, whenever each input of `f` is used by `f` alone (as here):
 * only the summation order of a gradient from inside `f` with one from outside would differ. The cost
 * is one more forward pass of `f`.
 *
 * `f` must be a pure function of its tensor inputs: a variable it reads directly gets no gradient (pass
 * it as an input), and anything random must come in as an input too, or the recomputation would draw
 * different numbers. Inputs that are not float32 get a zero gradient.
 */
export function recomputed<T extends tf.Tensor>(f: (...xs: tf.Tensor[]) => T): (...xs: tf.Tensor[]) => T {
  return (...inputs) => {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const xs = args.slice(0, -1) as tf.Tensor[];
      const save = args[args.length - 1] as tf.GradSaveFunc;
      save(xs);
      return {
        value: f(...xs),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const floats = saved.filter((x) => x.dtype === 'float32');
          const { value, grads } = leanGradients(() => f(...saved), floats, dy);
          value.dispose();
          let next = 0;
          return saved.map((x) => {
            if (x.dtype !== 'float32') return tf.zeros(x.shape);
            return grads[next++] ?? tf.zerosLike(x);
          });
        },
      };
    });
    return op(...inputs) as T;
  };
}
