import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { defaultWasmThreads } from '../../lib/backend/wasm-threads.js';
import { projectRoot } from '../helpers/fixtures.js';

interface ChildResult {
  readonly backend: string;
  readonly threads: number;
  readonly note?: string;
  readonly digest: string;
}

function runChild(threads: number, env: Record<string, string> = {}): ChildResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'test', 'backend', 'wasm-threads-child.ts')], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, KBB_BACKEND: 'wasm', KBB_WASM_THREADS: String(threads), ...env },
    // A child that never exits (the pool keeping the process alive) fails here.
    timeout: 30_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

describe('the wasm backend on threads (threaded SIMD build under Node)', () => {
  test('by default uses a thread per core (at most 8), and says so', async () => {
    const selection = await selectBackend({ prefer: 'wasm' });
    expect(selection.backend).toBe('wasm');
    expect(defaultWasmThreads()).toBe(Math.min(availableParallelism(), 8));
    // The process-wide selection may have been made with KBB_WASM_THREADS set by whoever runs the suite.
    const expected = process.env.KBB_WASM_THREADS ? Number(process.env.KBB_WASM_THREADS) : defaultWasmThreads();
    expect(selection.wasm).toEqual({ simd: true, threads: expected });
  });

  test('1, 2 and 3 threads give bit-identical products and gradients, with the pool size asked for', () => {
    const one = runChild(1);
    const two = runChild(2);
    const three = runChild(3);
    expect([one.backend, two.backend, three.backend]).toEqual(['wasm', 'wasm', 'wasm']);
    // More threads than cores is allowed (and still exact); the pool is what was asked for.
    expect([one.threads, two.threads, three.threads]).toEqual([1, 2, 3]);
    expect([one.note, two.note, three.note]).toEqual([undefined, undefined, undefined]);
    expect(two.digest).toBe(one.digest);
    expect(three.digest).toBe(one.digest);
  });

  test('where the threaded build cannot start, runs the unthreaded build with the same results and says why', () => {
    const fallback = runChild(2, { KBB_TEST_HIDE_SHARED_ARRAY_BUFFER: '1' });
    expect(fallback.backend).toBe('wasm');
    expect(fallback.threads).toBe(1);
    expect(fallback.note).toBe('the threaded build did not start (SharedArrayBuffer is not defined); running on one thread');
    expect(fallback.digest).toBe(runChild(1).digest);
  });

  test('a KBB_WASM_THREADS that is not a whole number of threads is an error naming it', () => {
    expect(() => runChild(0)).toThrow(/KBB_WASM_THREADS=0 is not a whole number of threads/);
  });
});
