import { parentPort } from 'node:worker_threads';
import { type FusedAdamWAttrs, fusedAdamWUpdate } from './adamw-update.js';

/** One slice of an AdamW update, on shared memory (adamw-threads.ts lays it out). */
export interface AdamWSlice {
  /** p, g, m, v in, then p, m, v out: seven arrays of `length` floats, one after another. */
  readonly shared: SharedArrayBuffer;
  readonly offset: number;
  readonly length: number;
  readonly attrs: FusedAdamWAttrs;
  /** Set to 1 (and notified) when the slice is done, 2 if it failed. */
  readonly done: Int32Array;
}

const port = parentPort;
if (port === null) throw new Error('adamw-worker.ts runs as a worker thread');
port.on('message', ({ shared, offset, length, attrs, done }: AdamWSlice) => {
  let state = 1;
  try {
    const view = (i: number): Float32Array => new Float32Array(shared, offset + i * length * 4, length);
    fusedAdamWUpdate(view(0), view(1), view(2), view(3), attrs, { variable: view(4), m: view(5), v: view(6) });
  } catch {
    state = 2;
  }
  Atomics.store(done, 0, state);
  Atomics.notify(done, 0);
});
port.postMessage('ready');
