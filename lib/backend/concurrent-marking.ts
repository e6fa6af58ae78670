import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/**
 * Whether V8 marks the JavaScript heap on helper threads while the program runs, and turning that off
 * when ONNX Runtime's threads fill every core.
 *
 * The native backend's kernels run on ONNX Runtime's intra-op threads, one per core on small machines.
 * Each kernel's output comes back through the binding as a new ArrayBuffer (onnx-runtime.ts), a
 * training step's worth is gigabytes of external memory, and V8 answers with a marking cycle every
 * few dozen kernels. Concurrent marking runs those cycles on helper threads beside the main thread,
 * so on a machine with as many cores as ONNX Runtime has threads the helpers take the cores a product
 * was split over: on this project's 2-vCPU machines a [1024, 768]·[768, 768] product ran at 160–200
 * GFLOP/s inside a training step against 340–420 alone, and the full-attention step at 1024 tokens
 * took 985–1040 ms with concurrent marking and 890–930 ms without (median of five steps, alternating
 * runs). Marking on the main thread costs its few milliseconds in the pauses instead, when no kernel
 * runs. Where cores are left over, V8 keeps its helpers.
 *
 * V8 reads the flag each time it starts a marking cycle, and keeps parallel marking (its helpers during
 * a pause) either way, so it can be turned off in a running process: the backend does so when it is
 * first used, and a process started with `--no-concurrent-marking` has it off from the start.
 */
export const NO_CONCURRENT_MARKING = '--no-concurrent-marking';

let turnedOff = false;

/** Whether ONNX Runtime's `threads` leave no core for V8's marking helpers on a machine of `cores`. */
export function threadsFillCores(threads: number, cores: number = availableParallelism()): boolean {
  return threads >= cores;
}

/** Turns concurrent marking off for the rest of the process when `threads` fill every core; says whether it is off. */
export function quietConcurrentMarking(threads: number, cores: number = availableParallelism()): boolean {
  if (!turnedOff && threadsFillCores(threads, cores) && !concurrentMarkingOff()) {
    setFlagsFromString(NO_CONCURRENT_MARKING);
    turnedOff = true;
  }
  return concurrentMarkingOff();
}

/** Whether this process runs without concurrent marking (from its command line, or turned off above). */
export function concurrentMarkingOff(): boolean {
  return turnedOff || process.execArgv.includes(NO_CONCURRENT_MARKING) || process.execArgv.includes('--single-threaded-gc');
}
