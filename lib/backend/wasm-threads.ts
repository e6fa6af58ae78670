import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

/**
 * Runs the wasm backend's threaded SIMD build under Node.
 *
 * tfjs-backend-wasm ships an Emscripten pthreads build (XNNPACK's thread pool over a shared wasm
 * memory), but its `WASM_HAS_MULTITHREAD_SUPPORT` probe answers false under Node (tfjs issue 3830)
 * because the build starts its pthread workers the browser way: the worker script and the main
 * script are Blobs behind `blob:` URLs, which Node's `worker_threads.Worker` cannot open and whose
 * contents a worker cannot read synchronously (Emscripten's `importScripts`). Emscripten's own Node
 * support is otherwise complete (it sets `global.Worker = worker_threads.Worker` and drives workers
 * through `parentPort`). So this module
 *   - makes `globalThis.Worker` a `worker_threads.Worker` that, given one of those `blob:` URLs,
 *     evaluates the package's worker source instead (the same text the Blob holds), and
 *   - defines `importScripts` in that worker so that loading the main script's Blob evaluates the
 *     package's threaded factory, exactly as the browser path would.
 * Nothing of the package is patched on disk, and the arithmetic is XNNPACK's, unchanged: each output
 * element is computed by one thread, so results do not depend on the thread count.
 */

const require = createRequire(import.meta.url);

/** Emscripten allocates this many pthread workers up front (`pthreadPoolSize=8` in the build). */
const PTHREAD_POOL_SIZE = 8;

/**
 * Threads for XNNPACK's pool (the calling thread included): one per core, at most 8 — the C++ side's
 * own cap, and the number of workers Emscripten starts up front (a thread beyond those would wait on
 * a worker that loads only once the main thread returns to its event loop).
 */
export function defaultWasmThreads(): number {
  return Math.min(availableParallelism(), PTHREAD_POOL_SIZE);
}

/** Source of the pthread worker and the threaded factory, as tfjs wraps them into Blobs. */
function threadedSources(): { readonly worker: string; readonly mainScript: string } {
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  const factory = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as (...args: unknown[]) => unknown;
  return {
    // backend_wasm.js escapes newlines the same way before making its Blob.
    worker: wasmWorkerContents.replace(/\n/g, '\\n'),
    mainScript: `var WasmBackendModuleThreadedSimd = ${factory.toString()}`,
  };
}

/**
 * Runs first in every pthread worker. Emscripten's worker script assigns its own `importScripts`
 * (a synchronous file read) with `Object.assign(global, ...)`; an accessor with a setter that keeps
 * ours is what survives that assignment.
 */
const WORKER_PRELUDE = `"use strict";
(() => {
  const { workerData } = require('node:worker_threads');
  const fs = require('node:fs');
  const load = (url) => {
    const code = String(url).startsWith('blob:') ? workerData.kbbMainScript : fs.readFileSync(url, 'utf8');
    (0, eval)(code);
  };
  Object.defineProperty(globalThis, 'importScripts', { get: () => load, set: () => {}, configurable: true });
})();
`;

let installed = false;
/** Every pthread worker started, so that they can stop keeping the process alive (see below). */
const pthreadWorkers = new Set<NodeWorker>();
let released = false;

/**
 * Lets the threaded build start its workers under Node (see the file comment). Idempotent. Must run
 * before the wasm backend initialises; it leaves `globalThis.Worker` defined, as Emscripten's Node
 * path does anyway.
 */
export function installWasmThreadsShim(): void {
  if (installed) return;
  const sources = threadedSources();
  class BlobAwareWorker extends NodeWorker {
    constructor(url: string | URL, options: WorkerOptions = {}) {
      if (String(url).startsWith('blob:')) {
        super(WORKER_PRELUDE + sources.worker, { ...options, eval: true, workerData: { kbbMainScript: sources.mainScript } });
        pthreadWorkers.add(this);
        this.once('exit', () => pthreadWorkers.delete(this));
        if (released) this.unref();
      } else {
        super(url, options);
      }
    }

    override ref(): void {
      if (!released || !pthreadWorkers.has(this)) super.ref();
    }
  }
  // The threaded factory runs `global.Worker = nodeWorkerThreads.Worker` when called; the setter
  // keeps this class in place.
  Object.defineProperty(globalThis, 'Worker', { get: () => BlobAwareWorker, set: () => {}, configurable: true });
  installed = true;
}

/**
 * Runs `init` (the backend's initialisation) with the module told it has `2 × threads` logical
 * cores. The C++ side sizes XNNPACK's pool as `min(requested, logical cores / 2, 8)`, halving on
 * the assumption of two hyperthreads per core; on a machine whose cores are not hyperthreaded (a
 * 2-vCPU VM reports 2) that leaves a pool of one thread whatever `setThreadsCount` asks for. The
 * answer is given through the wasm import `env.emscripten_num_logical_cores`, only for the
 * instantiations `init` starts, and the global `WebAssembly.instantiate` is restored afterwards.
 */
type WasmImports = Record<string, Record<string, unknown>>;
type Instantiate = (source: unknown, imports?: WasmImports) => Promise<unknown>;
// Node's typings (without the DOM library) declare too little of WebAssembly for this.
const webAssembly = (globalThis as unknown as { WebAssembly: { instantiate: Instantiate } }).WebAssembly;

export async function withLogicalCores<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const original = webAssembly.instantiate;
  const cores = (): number => 2 * threads;
  const patched: Instantiate = (source, imports) => {
    const env = imports?.env;
    if (env !== undefined && typeof env.emscripten_num_logical_cores === 'function') env.emscripten_num_logical_cores = cores;
    return original.call(webAssembly, source, imports);
  };
  webAssembly.instantiate = patched;
  try {
    return await init();
  } finally {
    if (webAssembly.instantiate === patched) webAssembly.instantiate = original;
  }
}

/**
 * Lets the process exit with the pool alive. Emscripten refs a worker while a pthread runs on it,
 * and XNNPACK's pool threads run for the life of the module (parked on a futex between products),
 * so without this a script that used the threaded backend never ends. The pool only works inside
 * a synchronous call from the main thread, so nothing is cut short. Called once the backend is up:
 * while it loads, the workers' messages are what the main thread waits for.
 */
export function releaseWasmThreads(): void {
  released = true;
  for (const worker of pthreadWorkers) worker.unref();
}
