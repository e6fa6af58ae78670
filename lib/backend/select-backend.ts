import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { activationBudgetBytes } from './activation-budget.js';
import { concurrentMarkingOff } from './concurrent-marking.js';
import { glibcVersion, hasNativeMallocTunables, NATIVE_MALLOC_TUNABLES } from './malloc-tunables.js';
import { NATIVE_BACKEND, registerNativeBackend } from './native-backend.js';
import { defaultNativeThreads } from './onnx-runtime.js';
import { ensureTrainingGradients } from './training-gradients.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { defaultWasmThreads, installWasmThreadsShim, releaseWasmThreads, withLogicalCores } from './wasm-threads.js';

/**
 * Picks the best TensorFlow.js backend installed, best first:
 *   1. `tensorflow` from @tensorflow/tfjs-node-gpu (libtensorflow with CUDA; not a dependency, used
 *      when a user has installed it),
 *   2. `tensorflow` from @tensorflow/tfjs-node (libtensorflow on the CPU; an optional dependency
 *      whose install downloads libtensorflow, so it is often absent),
 *   3. `native` (native-backend.ts): the cpu backend's tensors in Node's memory, no 4 GB ceiling, with
 *      products, elementwise ops, softmax and copies in ONNX Runtime's native CPU kernels
 *      (onnxruntime-node, a dependency whose npm tarball carries the binaries),
 *   4. `wasm` from @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD, a thread per core through the shim
 *      of wasm-threads.ts), with the kernels of wasm-kernels.ts,
 *   5. `cpu` from @tensorflow/tfjs-backend-cpu (plain JavaScript, the reference).
 * Every candidate that is absent or fails to load or initialise is skipped with its reason kept, so a
 * command can say why it is not running on something faster. Training gradients are registered
 * whatever is chosen (training-gradients.ts).
 */

export const BACKEND_PREFERENCES = ['tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export interface BackendSelectionOptions {
  /**
   * Start from this backend instead of the best one; worse ones are still fallbacks. Default: the
   * `KBB_BACKEND` environment variable, else 'tensorflow' (the best).
   */
  readonly prefer?: BackendPreference;
  /**
   * Threads for the wasm backend's XNNPACK pool, the calling thread included (1 = the unthreaded
   * SIMD build). Default: the `KBB_WASM_THREADS` environment variable, else one per core, at most 8.
   * Read when the wasm backend is first initialised in the process; later calls cannot change it.
   */
  readonly wasmThreads?: number;
  /**
   * Threads for the native backend's ONNX Runtime kernels, the calling thread included. Default: the
   * `KBB_NATIVE_THREADS` environment variable, else one per core, at most 8. Read when the native
   * backend is first registered in the process.
   */
  readonly nativeThreads?: number;
}

export interface SkippedBackend {
  readonly backend: string;
  readonly packageName: string;
  readonly reason: string;
}

export interface BackendSelection {
  /** `tf.getBackend()` after selection: 'tensorflow', 'native', 'wasm' or 'cpu'. */
  readonly backend: string;
  readonly packageName: string;
  /** Better candidates that were tried and skipped, best first. */
  readonly skipped: readonly SkippedBackend[];
  /**
   * For wasm: whether the SIMD binary was loaded, the size of XNNPACK's thread pool, and why it is
   * one thread if more were asked for and the threaded build could not start.
   */
  readonly wasm?: { readonly simd: boolean; readonly threads: number; readonly threadsNote?: string };
  /**
   * For native: ONNX Runtime's version, its thread count, and whether glibc's malloc runs with
   * `NATIVE_MALLOC_TUNABLES` (malloc-tunables.ts; undefined where the C library is not glibc), and
   * whether V8 marks its heap without helper threads (concurrent-marking.ts).
   */
  readonly native?: {
    readonly onnxRuntimeVersion: string;
    readonly threads: number;
    readonly mallocTunables?: boolean;
    readonly concurrentMarkingOff: boolean;
  };
}

/** Thread counts for the backends that take one, read when each is first initialised. */
interface Threads {
  readonly wasm: number;
  readonly native: number;
}

interface Candidate {
  readonly preference: BackendPreference;
  readonly backend: string;
  readonly packageName: string;
  /** Imports the package and prepares it; throws with the reason it cannot be used. */
  readonly load: (threads: Threads) => Promise<void>;
}

const CANDIDATES: readonly Candidate[] = [
  { preference: 'tensorflow', backend: 'tensorflow', packageName: '@tensorflow/tfjs-node-gpu', load: () => importOptional('@tensorflow/tfjs-node-gpu') },
  { preference: 'tensorflow', backend: 'tensorflow', packageName: '@tensorflow/tfjs-node', load: () => importOptional('@tensorflow/tfjs-node') },
  {
    preference: 'native',
    backend: NATIVE_BACKEND,
    packageName: 'onnxruntime-node',
    load: async (threads) => {
      await registerNativeBackend({ threads: threads.native });
    },
  },
  { preference: 'wasm', backend: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', load: loadWasm },
  {
    preference: 'cpu',
    backend: 'cpu',
    packageName: '@tensorflow/tfjs-backend-cpu',
    load: async () => {
      await import('@tensorflow/tfjs-backend-cpu');
    },
  },
];

const selections = new Map<BackendPreference, Promise<BackendSelection>>();

/**
 * Selects, initialises and activates a backend (see the file comment). Idempotent: the same preference
 * gives the same (cached) selection, re-activated if something switched backends since.
 */
export async function selectBackend(options: BackendSelectionOptions = {}): Promise<BackendSelection> {
  const prefer = options.prefer ?? preferenceFromEnv();
  let pending = selections.get(prefer);
  if (pending === undefined) {
    pending = select(prefer, { wasm: options.wasmThreads ?? wasmThreadsFromEnv(), native: options.nativeThreads ?? defaultNativeThreads() });
    selections.set(prefer, pending);
    pending.catch(() => selections.delete(prefer));
  }
  const selection = await pending;
  if (tf.getBackend() !== selection.backend) await tf.setBackend(selection.backend);
  return selection;
}

function wasmThreadsFromEnv(): number {
  const raw = process.env.KBB_WASM_THREADS?.trim();
  if (raw === undefined || raw === '') return defaultWasmThreads();
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`KBB_WASM_THREADS=${raw} is not a whole number of threads (1 or more)`);
  return threads;
}

function preferenceFromEnv(): BackendPreference {
  const raw = process.env.KBB_BACKEND?.trim();
  if (raw === undefined || raw === '') return 'tensorflow';
  if ((BACKEND_PREFERENCES as readonly string[]).includes(raw)) return raw as BackendPreference;
  throw new Error(`KBB_BACKEND=${raw} is not one of ${BACKEND_PREFERENCES.join(', ')}`);
}

async function select(prefer: BackendPreference, threads: Threads): Promise<BackendSelection> {
  await ensureTrainingGradients();
  let threadsNote: string | undefined;
  const first = CANDIDATES.findIndex((candidate) => candidate.preference === prefer);
  const skipped: SkippedBackend[] = [];
  for (const candidate of CANDIDATES.slice(first)) {
    let reason: string | undefined;
    if (candidate.backend === 'wasm' && threads.wasm > 1) {
      const threaded = await activateThreadedWasm(candidate, threads);
      reason = threaded.reason;
      threadsNote = threaded.threadsNote;
    } else {
      reason = await activate(candidate, threads);
    }
    if (reason === undefined) {
      const selection: BackendSelection = {
        backend: tf.getBackend(),
        packageName: candidate.packageName,
        skipped,
      };
      if (candidate.backend === NATIVE_BACKEND) {
        // Registered by the candidate's load: this returns what it registered.
        const native = await registerNativeBackend();
        const mallocTunables = glibcVersion() === undefined ? {} : { mallocTunables: hasNativeMallocTunables() };
        return {
          ...selection,
          native: { onnxRuntimeVersion: native.onnxRuntimeVersion, threads: native.threads, ...mallocTunables, concurrentMarkingOff: concurrentMarkingOff() },
        };
      }
      if (candidate.backend !== 'wasm') return selection;
      return { ...selection, wasm: { ...(await wasmDetails()), ...(threadsNote === undefined ? {} : { threadsNote }) } };
    }
    skipped.push({ backend: candidate.backend, packageName: candidate.packageName, reason });
  }
  throw new Error(`no TensorFlow.js backend could be used:\n${describeSkipped(skipped)}`);
}

/**
 * The wasm candidate with its threaded build (wasm-threads.ts). If that cannot start, the
 * unthreaded SIMD build is tried, and the reason is kept for the selection's description.
 */
async function activateThreadedWasm(candidate: Candidate, threads: Threads): Promise<{ reason?: string; threadsNote?: string }> {
  // The package is needed here only to set its thread count; `activate` loads and registers it.
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return { reason: loadFailure(candidate.packageName, error) };
  }
  let failure: string | undefined;
  try {
    installWasmThreadsShim();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads.wasm);
    // tfjs reports a failed initialisation on console.warn (its error among the arguments) and
    // answers false; kbb falls back, so the error goes into the note instead of onto the console.
    const warned: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warned.push(...args);
    try {
      failure = await withLogicalCores(threads.wasm, () => activate(candidate, threads));
    } finally {
      console.warn = warn;
    }
    // It warns `Initialization of backend wasm failed`, then the error's stack.
    const cause = warned.find((item) => item instanceof Error || (typeof item === 'string' && !item.startsWith('Initialization of backend')));
    if (failure !== undefined && cause !== undefined) failure = message(cause).replace(/^\w*Error: /, '');
    else if (failure === undefined) for (const item of warned) console.warn(item);
  } catch (error) {
    failure = message(error);
  }
  // Workers a failed start left behind must not keep the process alive either.
  releaseWasmThreads();
  if (failure === undefined) return {};
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  const reason = await activate(candidate, threads);
  return reason === undefined ? { threadsNote: `the threaded build did not start (${failure}); running on one thread` } : { reason };
}

/** Loads and switches to a candidate; returns why it cannot be used, or undefined on success. */
async function activate(candidate: Candidate, threads: Threads): Promise<string | undefined> {
  try {
    await candidate.load(threads);
  } catch (error) {
    return loadFailure(candidate.packageName, error);
  }
  if (tf.findBackendFactory(candidate.backend) === null) {
    return `${candidate.packageName} loaded but registered no '${candidate.backend}' backend`;
  }
  try {
    // setBackend reports a failed initialisation as false (and a console warning), not an error.
    if (!(await tf.setBackend(candidate.backend))) return `the '${candidate.backend}' backend failed to initialise`;
  } catch (error) {
    return `the '${candidate.backend}' backend failed to initialise: ${message(error)}`;
  }
  return undefined;
}

function loadFailure(packageName: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message(error).includes(packageName)) {
    return 'not installed';
  }
  return `failed to load: ${message(error)}`;
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/**
 * Imports a package that may be absent. The name goes through a variable so neither TypeScript nor a
 * bundler insists on it being installed.
 */
async function importOptional(packageName: string): Promise<void> {
  const specifier: string = packageName;
  await import(specifier);
}

const require = createRequire(import.meta.url);

/**
 * The wasm backend fetches its .wasm binary relative to where it thinks its script lives, which under
 * Node (CommonJS bundle, resolved through symlinked node_modules, or a bundled kbb) is not reliable. So
 * it is pointed at the installed package's dist/ folder, as a plain directory path ending in a
 * separator, which the Emscripten loader reads with fs under Node (a file:// URL prefix works there as
 * well; a path stays readable in messages). SIMD is chosen by the backend's own WASM_HAS_SIMD_SUPPORT
 * probe, true on Node ≥ 16.4, so the SIMD binary is the one loaded.
 */
async function loadWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${sep}`);
    wasmPathsSet = true;
  }
  registerWasmTrainingKernels();
}

let wasmPathsSet = false;

async function wasmDetails(): Promise<{ readonly simd: boolean; readonly threads: number }> {
  const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  return { simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true, threads: getThreadsCount() };
}

function describeSkipped(skipped: readonly SkippedBackend[]): string {
  return skipped.map((s) => `  ${s.backend} (${s.packageName}): ${s.reason}`).join('\n');
}

/** A few lines for a command to print: what runs, and why nothing better does. */
export function describeBackendSelection(selection: BackendSelection): string {
  let head = `TensorFlow.js backend: ${selection.backend} (${selection.packageName})`;
  if (selection.wasm !== undefined) {
    head += `, SIMD ${selection.wasm.simd ? 'on' : 'off'}, ${selection.wasm.threads} thread${selection.wasm.threads === 1 ? '' : 's'}`;
    if (selection.wasm.threadsNote !== undefined) head += ` (${selection.wasm.threadsNote})`;
  }
  if (selection.native !== undefined) {
    head += `, ONNX Runtime ${selection.native.onnxRuntimeVersion} on ${selection.native.threads} thread${selection.native.threads === 1 ? '' : 's'}`;
    head += '\n  tensors in Node memory (no 4 GB wasm heap); products, elementwise ops, softmax and copies in native kernels, the rest in JavaScript';
    if (selection.native.mallocTunables === true) head += '\n  malloc: large arrays reused from the heap (GLIBC_TUNABLES as the kbb executable sets it)';
    if (selection.native.mallocTunables === false) {
      head += `\n  malloc: glibc maps each array over 32 MiB afresh, which makes large kernels 3–4× slower; run the kbb executable, or set GLIBC_TUNABLES=${NATIVE_MALLOC_TUNABLES}`;
    }
    head += selection.native.concurrentMarkingOff
      ? "\n  garbage collection: V8 marks on the main thread, since ONNX Runtime's threads fill every core"
      : '\n  garbage collection: V8 marks on helper threads, on the cores ONNX Runtime leaves free';
  }
  const budget = activationBudgetBytes(selection.backend) / 2 ** 30;
  head += `\n  training keeps up to ${budget.toFixed(1)} GiB of attention activations for the backward pass, and recomputes the attention beyond that`;
  if (selection.skipped.length === 0) return head;
  return `${head}\nskipped:\n${describeSkipped(selection.skipped)}`;
}
