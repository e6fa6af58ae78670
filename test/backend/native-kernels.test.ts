import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, test } from 'vitest';
import { NATIVE_BACKEND, NATIVE_KERNEL_NAMES, registerNativeBackend } from '../../lib/backend/native-backend.js';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { activation, layerNorm, softmaxDropout } from '../../lib/model/nn.js';
import { expectSameOutcome, runOn } from './backend-parity.js';
import { f32, ints, PARITY_CASES, type ParityCase, positive, wide } from './parity-cases.js';

/**
 * The native backend (lib/backend/native-backend.ts: ONNX Runtime kernels on the cpu backend's
 * tensors) against the cpu backend: the sweep every backend passes, cases for the kernels only it
 * replaces, sizes large enough for ONNX Runtime's threads to split the work and for outputs to be
 * recycled, and the rules that keep recycling from overwriting an array someone still reads.
 */

let loadError: string | undefined;
try {
  // Every size through ONNX Runtime: the sweep's tensors are small, and small ones would go to the
  // cpu kernels they are compared with.
  await registerNativeBackend({ minNativeElements: 0 });
  // Through the selection, as every command: it registers the training gradients too.
  if ((await selectBackend({ prefer: 'native' })).backend !== NATIVE_BACKEND) loadError = 'the native backend did not initialise';
} catch (error) {
  loadError = (error as Error).message;
}
if (loadError !== undefined) console.warn(`native backend tests skipped: onnxruntime-node does not load here (${loadError})`);

const NATIVE_CASES: ParityCase[] = [
  {
    name: 'pad',
    inputs: [f32(3, 4, 5)],
    f: (x) =>
      tf.pad(
        x,
        [
          [1, 0],
          [0, 2],
          [3, 1],
        ],
        0.5,
      ),
  },
  { name: 'split uneven', inputs: [f32(4, 9)], f: (x) => tf.mul(tf.split(x, [2, 3, 4], 1)[1] as tf.Tensor, 2) },
  { name: 'split then join', inputs: [f32(6, 4)], f: (x) => tf.concat(tf.split(x, 3, 0).reverse(), 0) },
  { name: 'concat of four', inputs: [f32(2, 3), f32(2, 1), f32(2, 4), f32(2, 2)], f: (a, b, c, d) => tf.concat([a, b, c, d], 1) },
  { name: 'slice to the end', inputs: [f32(6, 7)], f: (x) => tf.slice(x, [2, 3]) },
  { name: 'min over an axis', inputs: [f32(3, 4, 5)], f: (x) => tf.min(x, 1) },
  { name: 'sigmoid', inputs: [wide(-8, 8, 50)], f: (x) => tf.sigmoid(x) },
  { name: 'relu', inputs: [f32(50)], f: (x) => tf.relu(x) },
  { name: 'reciprocal', inputs: [positive(50)], f: (x) => tf.reciprocal(x) },
  { name: 'abs and floor', inputs: [wide(-9, 9, 50)], f: (x) => tf.add(tf.abs(x), tf.floor(x)) },
  { name: 'scatterNd with repeated rows', inputs: [ints([0, 4, 0, 2, 4, 4], [6, 1]), f32(6, 3)], f: (i, u) => tf.scatterND(i, u, [5, 3]), differentiate: [] },
  { name: 'gelu_new (fused on native, the op chain on cpu)', inputs: [wide(-7, 7, 48, 300)], f: (x) => activation('gelu_new')(x) },
  {
    name: 'LayerNorm (fused on native, the op chain on cpu)',
    inputs: [wide(-4, 6, 3, 5, 96), positive(96), f32(96)],
    f: (x, gamma, beta) => layerNorm(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-12),
  },
  { name: 'softmax then dropout (its gradient one graph on native)', inputs: [wide(-6, 6, 2, 3, 7, 40)], f: (x) => softmaxDropout(x, 0.1, 42) },
  // Sizes past ONNX Runtime's per-thread blocks and past the recycling threshold (16 Ki elements).
  { name: 'large matMul', inputs: [f32(200, 300), f32(300, 170)], f: (a, b) => tf.matMul(a, b) },
  { name: 'large batched matMul transposed', inputs: [f32(3, 4, 64, 96), f32(3, 4, 80, 96)], f: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'large broadcast add', inputs: [f32(64, 512), f32(512)], f: (a, b) => tf.tanh(tf.add(a, b)) },
  { name: 'large softmax', inputs: [wide(-30, 30, 64, 700)], f: (x) => tf.softmax(x) },
  { name: 'large sum', inputs: [f32(40, 3000)], f: (x) => tf.sum(x, -1) },
  { name: 'large gather of short rows', inputs: [f32(400, 20), ints(Array.from({ length: 900 }, (_, i) => (i * 37) % 400))], f: (x, i) => tf.gather(x, i) },
  { name: 'large gather of whole rows', inputs: [f32(300, 96), ints(Array.from({ length: 500 }, (_, i) => (i * 37) % 300))], f: (x, i) => tf.gather(x, i) },
];

describe.skipIf(loadError !== undefined)('native kernels against cpu: forward and gradients', () => {
  beforeAll(() => tf.setBackend('cpu'));

  // The kernels each case ran on native, for the last test.
  const called = new Set<string>();

  test.each([...PARITY_CASES, ...NATIVE_CASES])('$name', async ({ inputs, f, differentiate }) => {
    const floats = differentiate ?? inputs.flatMap((spec, i) => ((spec.dtype ?? 'float32') === 'float32' ? [i] : []));
    const cpu = await runOn('cpu', inputs, f, floats);
    let native: Awaited<ReturnType<typeof runOn>> | undefined;
    const profile = await tf.profile(async () => {
      native = await runOn(NATIVE_BACKEND, inputs, f, floats);
      return [];
    });
    for (const kernel of profile.kernels) called.add(kernel.name);
    expectSameOutcome(native as Awaited<ReturnType<typeof runOn>>, cpu, 'native vs cpu');
  });

  test('every kernel the native backend runs in ONNX Runtime is called by the sweep', () => {
    expect(NATIVE_KERNEL_NAMES.filter((name) => !called.has(name))).toEqual([]);
  });
});

describe.skipIf(loadError !== undefined)('native backend memory', () => {
  beforeAll(() => tf.setBackend(NATIVE_BACKEND));
  const size = 1 << 16;

  test('an array a reader holds is not reused after its tensor is disposed', () => {
    const x = tf.tanh(tf.fill([size], 0.5));
    const read = x.dataSync();
    const snapshot = Float32Array.from(read);
    x.dispose();
    const others = Array.from({ length: 4 }, () => tf.tanh(tf.fill([size], -2)));
    expect(read).toEqual(snapshot);
    tf.dispose(others);
  });

  test('a view a cpu kernel made of an output survives the output', () => {
    const x = tf.tanh(tf.reshape(tf.range(0, size, 1, 'float32'), [4, size / 4]));
    const rows = tf.unstack(x); // the cpu kernel, which may answer views of x's array
    const expected = rows.map((row) => Array.from(row.dataSync()));
    x.dispose();
    const others = Array.from({ length: 4 }, () => tf.tanh(tf.fill([4, size / 4], 3)));
    rows.forEach((row, i) => {
      expect(Array.from(row.dataSync())).toEqual(expected[i]);
    });
    tf.dispose([...rows, ...others]);
  });

  test('a disposed output is reused for the next one of its size', () => {
    const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
    const x = tf.tanh(tf.fill([size], 1));
    const array = backend.data.get(x.dataId).values;
    x.dispose();
    const y = tf.tanh(tf.fill([size], 2));
    expect(backend.data.get(y.dataId).values).toBe(array);
    expect(y.dataSync()[0]).toBeCloseTo(Math.tanh(2), 6);
    y.dispose();
  });
});
