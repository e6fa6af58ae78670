/**
 * GFLOP/s of the wasm backend's BatchMatMul, stock kernel against lib/backend/wasm-batch-mat-mul.ts, on
 * the products BigBird training makes: 768×768 dense layers over 1024–4096 rows (forward, and the
 * transposed products their gradients make), the same on a 3-D [batch, rows, 768] input, and
 * attention-like batched [64 × 64] × [64 × 448] block products.
 *
 *   node --import tsx bench/matmul.ts [--quick]
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../lib/backend/select-backend.js';
import { registerWasmBatchMatMul, restoreStockWasmBatchMatMul } from '../lib/backend/wasm-batch-mat-mul.js';

interface Shape {
  readonly name: string;
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

const quick = process.argv.includes('--quick');
const rowsList = quick ? [1024] : [1024, 4096];
const shapes: Shape[] = [];
for (const rows of rowsList) {
  shapes.push({ name: `dense [${rows}×768]·[768×768]`, a: [rows, 768], b: [768, 768], transposeA: false, transposeB: false });
  shapes.push({ name: `dense dx [${rows}×768]·[768×768]ᵀ`, a: [rows, 768], b: [768, 768], transposeA: false, transposeB: true });
  shapes.push({ name: `dense dW [${rows}×768]ᵀ·[${rows}×768]`, a: [rows, 768], b: [rows, 768], transposeA: true, transposeB: false });
  shapes.push({ name: `dense 3-D [4×${rows / 4}×768]·[768×768]`, a: [4, rows / 4, 768], b: [768, 768], transposeA: false, transposeB: false });
}
const blocks = quick ? 24 : 96; // batch · heads · query blocks
shapes.push({ name: `attn [${blocks}×64×64]·[${blocks}×64×448]`, a: [blocks, 64, 64], b: [blocks, 64, 448], transposeA: false, transposeB: false });
shapes.push({ name: `attn qkᵀ [${blocks}×64×64]·[${blocks}×448×64]ᵀ`, a: [blocks, 64, 64], b: [blocks, 448, 64], transposeA: false, transposeB: true });
shapes.push({
  name: `attn 5-D [2×12×${blocks / 24}×64×64]·[…×64×448]`,
  a: [2, 12, blocks / 24, 64, 64],
  b: [2, 12, blocks / 24, 64, 448],
  transposeA: false,
  transposeB: false,
});

function flops(shape: Shape): number {
  const m = shape.transposeA ? shape.a.at(-1)! : shape.a.at(-2)!;
  const k = shape.transposeA ? shape.a.at(-2)! : shape.a.at(-1)!;
  const n = shape.transposeB ? shape.b.at(-2)! : shape.b.at(-1)!;
  const batch = Math.max(tf.util.sizeFromShape(shape.a.slice(0, -2)), tf.util.sizeFromShape(shape.b.slice(0, -2)));
  return 2 * batch * m * k * n;
}

/** Median seconds per product over at least `minSeconds` (and 3 runs), after one warm-up run. */
function time(a: tf.Tensor, b: tf.Tensor, shape: Shape, minSeconds: number): number {
  const once = (): number => {
    const start = performance.now();
    const y = tf.matMul(a, b, shape.transposeA, shape.transposeB);
    y.dataSync();
    y.dispose();
    return (performance.now() - start) / 1000;
  };
  once();
  const runs: number[] = [];
  let total = 0;
  while (runs.length < 3 || total < minSeconds) {
    const t = once();
    runs.push(t);
    total += t;
  }
  runs.sort((x, y) => x - y);
  return runs[Math.floor(runs.length / 2)];
}

const selection = await selectBackend({ prefer: 'wasm' });
if (selection.backend !== 'wasm') throw new Error(`wasm backend unavailable: ${JSON.stringify(selection.skipped)}`);
console.log('| product | stock GFLOP/s | fast GFLOP/s | speed-up |');
console.log('|---|---:|---:|---:|');
for (const shape of shapes) {
  const a = tf.randomNormal(shape.a as number[], 0, 1, 'float32', 1);
  const b = tf.randomNormal(shape.b as number[], 0, 1, 'float32', 2);
  restoreStockWasmBatchMatMul();
  const stock = time(a, b, shape, quick ? 0.5 : 1.5);
  registerWasmBatchMatMul();
  const fast = time(a, b, shape, quick ? 0.5 : 1.5);
  const gflops = (seconds: number): string => (flops(shape) / seconds / 1e9).toFixed(1);
  console.log(`| ${shape.name} | ${gflops(stock)} | ${gflops(fast)} | ${(stock / fast).toFixed(1)}× |`);
  a.dispose();
  b.dispose();
}
