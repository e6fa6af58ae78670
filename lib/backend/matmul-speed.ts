import * as tf from '@tensorflow/tfjs-core';

export interface MatMulSpeed {
  /** The product timed: `[rows × inner] · [inner × cols]`. */
  readonly shape: readonly [rows: number, inner: number, cols: number];
  /** Best of the timed runs, after one warm-up. */
  readonly milliseconds: number;
  readonly gflops: number;
}

/**
 * How fast the active backend multiplies a BigBird-base-sized dense layer (1024 tokens × 768 → 768
 * by default): a quick check that the backend runs at the speed it should (threads, SIMD), not a
 * benchmark (bench/ has those). Inputs are fixed values, so every run does the same arithmetic.
 * Timed runs stop after `runs`, or once they have taken `budgetMs` (on the cpu backend one product
 * takes over a second).
 */
export async function measureMatMulSpeed(rows = 1024, inner = 768, cols = 768, runs = 5, budgetMs = 1000): Promise<MatMulSpeed> {
  const a = tf.fill([rows, inner], 0.5);
  const b = tf.fill([inner, cols], 0.25);
  try {
    let best = Number.POSITIVE_INFINITY;
    let timed = 0;
    for (let run = 0; run <= runs && timed < budgetMs; run++) {
      const started = performance.now();
      const product = tf.matMul(a, b);
      await product.data(); // waits for the result on asynchronous backends
      const elapsed = performance.now() - started;
      product.dispose();
      if (run > 0) {
        best = Math.min(best, elapsed);
        timed += elapsed;
      }
    }
    return { shape: [rows, inner, cols], milliseconds: best, gflops: (2 * rows * inner * cols) / (best * 1e6) };
  } finally {
    tf.dispose([a, b]);
  }
}
