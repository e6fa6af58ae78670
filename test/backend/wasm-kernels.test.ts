import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectSameOutcome, runOn, useWasmAndCpu } from './backend-parity.js';
import { PARITY_CASES } from './parity-cases.js';

/**
 * The sweep over the ops BigBird training uses (parity-cases.ts): forward values and gradients on wasm
 * (with lib/backend/wasm-kernels.ts) equal the cpu backend's. A kernel wasm lacks fails here with
 * "kernel not registered"; one it gets wrong fails the comparison.
 */

describe('wasm kernels against cpu: forward and gradients', () => {
  beforeAll(useWasmAndCpu);

  test.each(PARITY_CASES)('$name', async ({ inputs, f, differentiate }) => {
    const floats = differentiate ?? inputs.flatMap((spec, i) => ((spec.dtype ?? 'float32') === 'float32' ? [i] : []));
    const cpu = await runOn('cpu', inputs, f, floats);
    const wasm = await runOn('wasm', inputs, f, floats);
    expectSameOutcome(wasm, cpu, 'wasm vs cpu');
  });

  test('every kernel the cpu backend has for these ops is registered on wasm', () => {
    // Kernels the ops above (and their gradients) reach; UnsortedSegmentSum is the one stock
    // tfjs-backend-wasm 4.22 lacks, the others are replaced or relied on by the gradient fixes.
    for (const kernel of ['UnsortedSegmentSum', 'BatchMatMul', 'GatherV2', 'Cast', 'StridedSlice', 'ScatterNd', 'Tile']) {
      expect(tf.getKernel(kernel, 'wasm'), kernel).toBeDefined();
    }
  });
});
