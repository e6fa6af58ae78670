import {
  type DataType,
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  registerKernel,
  type TensorInfo,
  unregisterKernel,
} from '@tensorflow/tfjs-core';

/**
 * The parts of the wasm backend (`BackendWasm` in @tensorflow/tfjs-backend-wasm 4.22) that the
 * kernels here reach into. The package's own typings hide `dataIdNextNumber` and type the module
 * loosely, so the shape is stated once here and checked where it is first used.
 */
export interface WasmModule {
  cwrap(name: string, returnType: string | null, argTypes: readonly string[]): (...args: unknown[]) => unknown;
  readonly HEAPU8: Uint8Array;
  readonly HEAP32: Int32Array;
  readonly HEAPF32: Float32Array;
  readonly tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
    getThreadsCount(): number;
  };
}

interface WasmTensorData {
  readonly id: number;
  readonly memoryOffset: number;
}

export interface WasmBackendInternals {
  readonly wasm: WasmModule;
  dataIdNextNumber: number;
  readonly dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  /** One more owner of a tensor's data (freed when the count drops to 0). */
  incRef(dataId: object): void;
  /** A view of a tensor's data in the heap: valid only until the next allocation may grow the heap. */
  typedArrayFromHeap(tensor: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The wasm backend behind a kernel's `backend` argument, after checking it is one. */
export function wasmInternals(backend: KernelBackend | object): WasmBackendInternals {
  const candidate = backend as Partial<WasmBackendInternals>;
  if (
    candidate.wasm === undefined ||
    typeof candidate.wasm.cwrap !== 'function' ||
    typeof candidate.dataIdNextNumber !== 'number' ||
    candidate.dataIdMap === undefined
  ) {
    throw new Error('expected the TensorFlow.js wasm backend (BackendWasm from tfjs-backend-wasm 4.x)');
  }
  return candidate as WasmBackendInternals;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, tensor: TensorInfo): number {
  const data = backend.dataIdMap.get(tensor.dataId);
  if (data === undefined) throw new Error('tensor data is not on the wasm backend');
  return data.memoryOffset;
}

/** The C++ side's id of a tensor (what the exported wasm kernel functions take). */
export function tensorId(backend: WasmBackendInternals, tensor: TensorInfo): number {
  const data = backend.dataIdMap.get(tensor.dataId);
  if (data === undefined) throw new Error('tensor data is not on the wasm backend');
  return data.id;
}

/**
 * Registers a C++-side tensor that aliases `size` float32 elements of the heap at `byteOffset`, so an
 * exported kernel can read or write part of a larger tensor without a copy. The JS side never sees it,
 * so nothing frees the memory twice; `releaseHeapView` only drops the C++ record (and runs its disposal
 * callbacks, which is how XNNPACK's operator cache, keyed by tensor id, forgets the view). Ids come from
 * the backend's own counter so they never collide with, or get reused by, real tensors.
 */
export function heapView(backend: WasmBackendInternals, byteOffset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, byteOffset);
  return id;
}

export function releaseHeapView(backend: WasmBackendInternals, id: number): void {
  backend.wasm.tfjs.disposeData(id);
}

/** The wasm backend's own kernels that `replaceWasmKernel` set aside, by kernel name. */
const stockKernels = new Map<string, KernelConfig>();

/**
 * Replaces the wasm backend's kernel `kernelName` with `wrap(stock)`, where `stock` is the kernel it
 * had (for the inputs the replacement leaves to it); the stock setup is kept. Idempotent.
 */
export function replaceWasmKernel(kernelName: string, wrap: (stock: KernelFunc) => KernelFunc): void {
  if (stockKernels.has(kernelName)) return;
  const stock = getKernel(kernelName, 'wasm');
  if (stock === undefined) throw new Error(`the wasm backend has no ${kernelName} kernel to replace`);
  stockKernels.set(kernelName, stock);
  unregisterKernel(kernelName, 'wasm');
  registerKernel({
    kernelName,
    backendName: 'wasm',
    ...(stock.setupFunc === undefined ? {} : { setupFunc: stock.setupFunc }),
    kernelFunc: wrap(stock.kernelFunc),
  });
}

/** Puts back the stock kernel `replaceWasmKernel` replaced (for benchmarks comparing the two). */
export function restoreWasmKernel(kernelName: string): void {
  const stock = stockKernels.get(kernelName);
  if (stock === undefined) return;
  unregisterKernel(kernelName, 'wasm');
  registerKernel(stock);
  stockKernels.delete(kernelName);
}
