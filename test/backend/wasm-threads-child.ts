/**
 * Run by wasm-threads.test.ts in a fresh process (a process initialises the wasm backend once, with
 * the thread count of KBB_WASM_THREADS): the backend it got, and a digest of products and gradients.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { seededUniform } from './backend-parity.js';

// A runtime without SharedArrayBuffer (which the threaded build's shared memory needs).
if (process.env.KBB_TEST_HIDE_SHARED_ARRAY_BUFFER) Reflect.deleteProperty(globalThis, 'SharedArrayBuffer');
const selection = await selectBackend({ prefer: 'wasm' });
const random = seededUniform(7);
const tensor = (shape: number[]): tf.Tensor =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1),
    shape,
  );
const a = tensor([384, 512]);
const b = tensor([512, 640]);
const q = tensor([4, 256, 64]);
const k = tensor([4, 256, 64]);
// Big enough that XNNPACK splits each product into tiles across the pool.
const results = [tf.matMul(a, b), tf.matMul(q, k, false, true), ...tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(x, w))))([a, b])];
const digest = createHash('sha256');
for (const result of results) digest.update(result.dataSync() as Float32Array);
console.log(JSON.stringify({ backend: selection.backend, threads: selection.wasm?.threads, note: selection.wasm?.threadsNote, digest: digest.digest('hex') }));
