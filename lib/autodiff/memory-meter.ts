import * as tf from '@tensorflow/tfjs-core';

/**
 * The peak of tensor *data* bytes while `f` runs: each data buffer counted once, however many tensors
 * share it. `tf.memory().numBytes` and `tf.profile`'s `peakBytes` count bytes per tensor object, so a
 * reshape, a clone or a saved-for-gradient copy that shares its data (every one, on cpu and, with
 * lib/backend/wasm-identity.ts, on wasm) counts the same buffer again and the figure overstates what is
 * allocated. This follows the engine's data records (`trackTensor` adding a new one, `removeDataId`
 * dropping one), so it works on any backend; buffers a kernel allocates and frees internally are not
 * seen. Returns the peak relative to the data live when `f` starts (the engine keeps its data records in
 * a WeakMap, which cannot be summed): the most `f` added at any moment.
 */
export function peakDataBytes<T>(f: () => T): { result: T; peakOverStartBytes: number } {
  interface Info {
    readonly bytes: number;
  }
  interface EngineInternals {
    readonly state: { tensorInfo: WeakMap<object, Info> };
    trackTensor(a: tf.Tensor, backend: unknown): void;
    removeDataId(dataId: object, backend: unknown): void;
  }
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state?.tensorInfo === undefined || typeof engine.trackTensor !== 'function' || typeof engine.removeDataId !== 'function') {
    throw new Error('peakDataBytes: the TensorFlow.js engine does not look like tfjs-core 4.x');
  }
  let live = 0;
  let peakBytes = 0;
  const trackTensor = engine.trackTensor;
  const removeDataId = engine.removeDataId;
  engine.trackTensor = function (this: EngineInternals, a: tf.Tensor, backend: unknown): void {
    const fresh = !engine.state.tensorInfo.has(a.dataId);
    trackTensor.call(this, a, backend);
    if (fresh) {
      live += engine.state.tensorInfo.get(a.dataId)?.bytes ?? 0;
      if (live > peakBytes) peakBytes = live;
    }
  };
  engine.removeDataId = function (this: EngineInternals, dataId: object, backend: unknown): void {
    const before = engine.state.tensorInfo.get(dataId);
    removeDataId.call(this, dataId, backend);
    if (before !== undefined && !engine.state.tensorInfo.has(dataId)) live -= before.bytes;
  };
  try {
    const result = f();
    return { result, peakOverStartBytes: peakBytes };
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
  }
}
