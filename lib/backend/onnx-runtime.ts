import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { type OnnxGraph, onnxModelBytes } from './onnx-graph.js';

/**
 * ONNX Runtime's CPU kernels (MLAS: AVX2/AVX-512 GEMM, vectorised elementwise ops, an intra-op thread
 * pool), called synchronously. TensorFlow.js kernels must return at once, and onnxruntime-node's
 * public `InferenceSession.run` is a promise; its native binding's `run` is synchronous (the public one
 * only defers it with setImmediate), so kbb loads the binding itself. The package ships its CPU
 * binaries in the npm tarball; its postinstall, which fetches CUDA add-ons, is turned off in
 * package.json (`allowScripts`) and .npmrc.
 */

export type OnnxTensorType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';
type OnnxData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** What the binding reads from a feed and writes for an output. */
interface OnnxTensor {
  readonly type: OnnxTensorType;
  readonly dims: readonly number[];
  readonly data: OnnxData;
}

interface BindingSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OnnxTensor>, fetches: Record<string, OnnxTensor | null>, options: object): Record<string, OnnxTensor>;
}

interface OnnxRuntime {
  readonly binding: { InferenceSession: new () => BindingSession };
  readonly Tensor: new (type: OnnxTensorType, data: OnnxData, dims: readonly number[]) => OnnxTensor;
  readonly version: string;
}

let runtime: OnnxRuntime | undefined;

/** Loads onnxruntime-node; throws (with the loader's reason) where it is absent or cannot load. */
export function loadOnnxRuntime(): OnnxRuntime {
  if (runtime !== undefined) return runtime;
  const require = createRequire(import.meta.url);
  const main = require.resolve('onnxruntime-node');
  const { binding, initOrt } = require(join(dirname(main), 'binding.js')) as { binding: OnnxRuntime['binding']; initOrt: () => void };
  const { Tensor } = require(main) as { Tensor: OnnxRuntime['Tensor'] };
  initOrt();
  const version = (require(join(dirname(main), '..', 'package.json')) as { version: string }).version;
  runtime = { binding, Tensor, version };
  return runtime;
}

/** Intra-op threads: `KBB_NATIVE_THREADS`, else one per core, at most 8 (as the wasm backend). */
export function defaultNativeThreads(): number {
  const raw = process.env.KBB_NATIVE_THREADS?.trim();
  if (raw !== undefined && raw !== '') {
    const threads = Number(raw);
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`KBB_NATIVE_THREADS=${raw} is not a whole number of threads (1 or more)`);
    return threads;
  }
  return Math.max(1, Math.min(8, cpus().length));
}

export interface OnnxInput {
  readonly type: OnnxTensorType;
  readonly shape: readonly number[];
  readonly data: OnnxData;
}

/**
 * One ONNX graph per key, each a session of its own, made on first use: kernels ask by a key that
 * names the op, its attributes and its input ranks and types, so a model's few hundred kernel calls
 * share a few dozen sessions. Inputs are read in place; outputs land in arrays the caller provides
 * (the backend's recycled buffers), which the binding copies its own output into (it does not hand
 * the caller's buffer to ONNX Runtime). Sessions run with a fixed thread count and sequential
 * execution, so results do not depend on timing.
 */
export class OnnxSessions {
  private readonly sessions = new Map<string, BindingSession>();
  private readonly runtime = loadOnnxRuntime();

  constructor(readonly threads: number = defaultNativeThreads()) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Runs graph `key` (built by `graph` on first use), writing its outputs into `outputs`. */
  run(key: string, graph: () => OnnxGraph, inputs: readonly OnnxInput[], outputs: readonly OnnxInput[]): void {
    let session = this.sessions.get(key);
    if (session === undefined) {
      const built = graph();
      session = this.load(built);
      this.sessions.set(key, session);
      this.outputNames.set(
        key,
        built.outputs.map((output) => output.name),
      );
      this.inputNames.set(
        key,
        built.inputs.map((input) => input.name),
      );
    }
    const inputNames = this.inputNames.get(key) ?? [];
    const feeds: Record<string, OnnxTensor> = {};
    inputs.forEach((input, i) => {
      feeds[inputNames[i] as string] = new this.runtime.Tensor(input.type, input.data, input.shape);
    });
    const outputNames = this.outputNames.get(key) ?? [];
    const fetches: Record<string, OnnxTensor> = {};
    outputs.forEach((output, i) => {
      fetches[outputNames[i] as string] = new this.runtime.Tensor(output.type, output.data, output.shape);
    });
    session.run(feeds, fetches, {});
  }

  private readonly inputNames = new Map<string, string[]>();
  private readonly outputNames = new Map<string, string[]>();

  private load(graph: OnnxGraph): BindingSession {
    const bytes = onnxModelBytes(graph);
    const session = new this.runtime.binding.InferenceSession();
    session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // The arena keeps a multi-node graph's intermediates (the gelu gradient's) between calls.
      enableCpuMemArena: true,
      enableMemPattern: false,
      // Each session has its own thread pool; threads that spin after their op would take the cores
      // from the next session's op (a 5× slower step).
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    return session;
  }
}
