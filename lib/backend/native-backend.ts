import { totalmem } from 'node:os';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { quietConcurrentMarking } from './concurrent-marking.js';
import { NATIVE_KERNEL_NAMES, nativeKernel } from './native-kernels.js';
import { defaultNativeThreads, loadOnnxRuntime, OnnxSessions } from './onnx-runtime.js';

/**
 * The `native` TensorFlow.js backend: the cpu backend's tensor store (plain typed arrays in Node's
 * memory, so no 4 GB wasm heap) with the heavy kernels run by ONNX Runtime's native CPU code
 * (native-kernels.ts) and every other kernel the cpu backend's own.
 */
export const NATIVE_BACKEND = 'native';

/** Arrays smaller than this are not worth keeping: their allocation is cheap. */
const MIN_RECYCLED_LENGTH = 1 << 14;
/**
 * Free arrays kept for reuse, at most this many bytes: a training step frees and allocates about the
 * model's parameters three times over (AdamW's outputs) plus its activations, and an array that finds
 * no free one of its size costs its page faults again.
 */
const MAX_FREE_BYTES = Math.min(4 * 2 ** 30, totalmem() / 8);

export class NativeBackend extends MathBackendCPU {
  readonly sessions: OnnxSessions;
  /** Free output arrays by length, reused before new memory is touched (see onnx-runtime.ts). */
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  /**
   * Arrays this backend allocated that nothing outside it has seen. An array a reader got (`dataSync`,
   * `data`) or a cpu kernel may have viewed (its `Slice` returns subarrays) is never reused.
   */
  private readonly owned = new WeakSet<Float32Array>();

  constructor(
    threads: number,
    readonly minNativeElements: number,
  ) {
    super();
    this.sessions = new OnnxSessions(threads);
    // V8's marking helpers would take the cores the kernels are split over (concurrent-marking.ts).
    quietConcurrentMarking(threads);
    // The cpu backend greets its first tensor in Node with advice to install tfjs-node.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  allocate(length: number): Float32Array {
    const array = this.free.get(length)?.pop();
    if (array !== undefined) {
      this.freeBytes -= array.byteLength;
      return array;
    }
    const fresh = new Float32Array(length);
    if (length >= MIN_RECYCLED_LENGTH) this.owned.add(fresh);
    return fresh;
  }

  recycle(array: Float32Array): void {
    if (!this.owned.has(array) || this.freeBytes + array.byteLength > MAX_FREE_BYTES) return;
    let list = this.free.get(array.length);
    if (list === undefined) {
      list = [];
      this.free.set(array.length, list);
    }
    list.push(array);
    this.freeBytes += array.byteLength;
  }

  /** Marks a tensor's array as seen outside the backend, so it is never reused. */
  release(dataId: object): void {
    const values = this.data.get(dataId)?.values;
    if (values instanceof Float32Array) this.owned.delete(values);
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const disposed = super.disposeData(dataId, force);
    if (disposed && values instanceof Float32Array) this.recycle(values);
    return disposed;
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    this.release(dataId);
    return super.readSync(dataId);
  }

  override read(dataId: object): Promise<tf.backend_util.BackendValues> {
    this.release(dataId);
    return super.read(dataId);
  }

  /** Drops the free arrays (for memory measurements). */
  clearFree(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}

export interface NativeBackendOptions {
  /** ONNX Runtime's threads per kernel, the calling thread included. Default: `defaultNativeThreads()`. */
  readonly threads?: number;
  /**
   * Kernels other than products and gathers whose inputs all have fewer elements run the cpu backend's JavaScript
   * kernel: a call into ONNX Runtime costs tens of microseconds, more than JavaScript takes for a few
   * thousand elements (the demo's tiny model ran 20% slower than on wasm, and 20% faster with this).
   * Default `DEFAULT_MIN_NATIVE_ELEMENTS`; 0 sends everything to ONNX Runtime.
   */
  readonly minNativeElements?: number;
}

export const DEFAULT_MIN_NATIVE_ELEMENTS = 4096;

export interface NativeBackendInfo {
  readonly onnxRuntimeVersion: string;
  readonly threads: number;
  readonly minNativeElements: number;
}

let registered: NativeBackendInfo | undefined;

/**
 * Registers the `native` backend and its kernels (idempotent: the first call's options hold for the
 * process). Throws with the loader's reason where onnxruntime-node is absent or its binary does not
 * load on this machine.
 */
export async function registerNativeBackend(options: NativeBackendOptions = {}): Promise<NativeBackendInfo> {
  if (registered !== undefined) return registered;
  const threads = options.threads ?? defaultNativeThreads();
  const minNativeElements = options.minNativeElements ?? DEFAULT_MIN_NATIVE_ELEMENTS;
  const runtime = loadOnnxRuntime();
  // Importing the package registers the cpu kernels this backend reuses.
  await import('@tensorflow/tfjs-backend-cpu');
  const cpuKernels = tf.getKernelsForBackend('cpu');
  for (const config of cpuKernels) {
    // kbb's own kernels (fused AdamW) may already be registered for native by their module.
    if (tf.getKernel(config.kernelName, NATIVE_BACKEND) === undefined) tf.registerKernel(nativeKernel(config.kernelName, config, NATIVE_BACKEND));
  }
  for (const name of NATIVE_KERNEL_NAMES) {
    if (!cpuKernels.some((config) => config.kernelName === name)) tf.registerKernel(nativeKernel(name, undefined, NATIVE_BACKEND));
  }
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(threads, minNativeElements), 0);
  registered = { onnxRuntimeVersion: runtime.version, threads, minNativeElements };
  return registered;
}

export { NATIVE_KERNEL_NAMES };
