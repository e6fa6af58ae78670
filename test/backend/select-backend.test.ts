import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
// Registered up front so the tests can switch to cpu by hand; being lowest, it changes no selection.
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, test } from 'vitest';
import { describeBackendSelection, selectBackend } from '../../lib/backend/select-backend.js';

const require = createRequire(import.meta.url);

function installed(packageName: string): boolean {
  try {
    require.resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

const ORDER = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'onnxruntime-node', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu'];

describe('selectBackend', () => {
  const saved = process.env.KBB_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.KBB_BACKEND;
    else process.env.KBB_BACKEND = saved;
  });

  test('picks the best backend that loads, and says why each better one was skipped', async () => {
    delete process.env.KBB_BACKEND;
    const selection = await selectBackend();
    expect(tf.getBackend()).toBe(selection.backend);
    const chosen = ORDER.indexOf(selection.packageName);
    expect(selection.skipped.map((s) => s.packageName)).toEqual(ORDER.slice(0, chosen));
    for (const skipped of selection.skipped) {
      expect(skipped.reason).toBe(installed(skipped.packageName) ? expect.stringMatching(/fail|registered no/) : 'not installed');
    }
    // onnxruntime-node is a dependency with its binaries in the npm tarball: without tfjs-node, the
    // native backend runs, on one thread per core (at most 8).
    if (!installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu')) {
      expect(selection.backend).toBe('native');
      expect(selection.native?.threads).toBe(Math.min(8, cpus().length));
      expect(describeBackendSelection(selection)).toMatch(/ONNX Runtime \d+\.\d+\.\d+ on \d+ threads?/);
    }
    expect(describeBackendSelection(selection)).toContain(`TensorFlow.js backend: ${selection.backend}`);
  });

  test('is idempotent and re-activates its backend', async () => {
    const first = await selectBackend({ prefer: 'wasm' });
    await tf.setBackend('cpu');
    const second = await selectBackend({ prefer: 'wasm' });
    expect(second).toBe(first);
    expect(tf.getBackend()).toBe('wasm');
  });

  test('a preference starts lower in the list; KBB_BACKEND is the default preference', async () => {
    const cpu = await selectBackend({ prefer: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(cpu.skipped).toEqual([]);
    process.env.KBB_BACKEND = 'cpu';
    expect((await selectBackend()).backend).toBe('cpu');
    process.env.KBB_BACKEND = 'wasm';
    expect((await selectBackend()).backend).toBe('wasm');
    expect((await selectBackend({ prefer: 'cpu' })).backend).toBe('cpu');
    process.env.KBB_BACKEND = 'native';
    expect((await selectBackend()).backend).toBe(installed('onnxruntime-node') ? 'native' : 'wasm');
  });

  test('an unknown KBB_BACKEND is an error, not a silent fallback', async () => {
    process.env.KBB_BACKEND = 'webgpu';
    await expect(selectBackend()).rejects.toThrow(/KBB_BACKEND=webgpu/);
  });

  test('registers training gradients whichever backend runs', async () => {
    await selectBackend({ prefer: 'cpu' });
    const x = tf.tensor([0, 1]);
    const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.tanh(t)))([x]);
    expect(Array.from(g.dataSync())).toEqual([1, expect.closeTo(1 - Math.tanh(1) ** 2, 6)]);
    tf.dispose([x, g]);
  });
});
