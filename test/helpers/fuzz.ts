import fc from 'fast-check';
import { expect } from 'vitest';
import { InputError } from '../../lib/fs/index.js';

/**
 * Seeded fuzzing of kbb's readers. Each reader's `*.fuzz.test.ts` mutates valid inputs and asserts the
 * reader contract: it returns data, or throws kbb's own `InputError` naming the file; never a
 * JavaScript runtime error (TypeError, RangeError …), never a hang.
 *
 * `npm test` runs FUZZ_RUNS cases per property with a fixed seed (a failure replays exactly);
 * `npm run fuzz -- --runs N [--seed S]` runs many more.
 */
export const FUZZ_RUNS = Number(process.env.KBB_FUZZ_RUNS ?? 200);
export const FUZZ_SEED = Number(process.env.KBB_FUZZ_SEED ?? 20261202);
/** fast-check parameters for a fuzz property: the run count and seed above. */
export const fuzzParameters = (runs = FUZZ_RUNS): fc.Parameters<unknown> => ({ numRuns: runs, seed: FUZZ_SEED, endOnFailure: true });
/** Long enough for any reader on a small input; a reader that takes longer on a mutated one hangs. */
export const FUZZ_CASE_TIMEOUT_MS = 10_000;

/** One seeded change to a byte string, described so a failing case says what was done. */
export type Mutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'overwrite'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'huge'; readonly at: number; readonly width: 1 | 2 | 4 | 8; readonly value: bigint }
  | { readonly kind: 'repeat'; readonly at: number; readonly length: number; readonly times: number };

/** Values that break length and count fields: the largest of each width, sign bits, just past the input. */
const HUGE_VALUES: readonly bigint[] = [
  0xffn,
  0x7fn,
  0xffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0xfffffffffffffn,
  0x7fffffffffffffffn,
  0xffffffffffffffffn,
];

/** A mutation of a byte string of `length` bytes (positions are taken modulo the length when applied). */
export function mutation(length: number): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: Math.max(0, length) });
  const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 });
  return fc.oneof(
    at.map((n): Mutation => ({ kind: 'truncate', at: n })),
    fc.tuple(at, fc.integer({ min: 0, max: 7 })).map(([n, bit]): Mutation => ({ kind: 'flip', at: n, bit })),
    fc.tuple(at, bytes).map(([n, b]): Mutation => ({ kind: 'overwrite', at: n, bytes: b })),
    fc.tuple(at, bytes).map(([n, b]): Mutation => ({ kind: 'insert', at: n, bytes: b })),
    fc.tuple(at, fc.integer({ min: 1, max: 64 })).map(([n, l]): Mutation => ({ kind: 'delete', at: n, length: l })),
    fc
      .tuple(at, fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8), fc.oneof(fc.constantFrom(...HUGE_VALUES), fc.bigInt({ min: 0n, max: 0xffffffffffffffffn })))
      .map(([n, width, value]): Mutation => ({ kind: 'huge', at: n, width, value })),
    fc
      .tuple(at, fc.integer({ min: 1, max: 32 }), fc.integer({ min: 2, max: 64 }))
      .map(([n, l, times]): Mutation => ({ kind: 'repeat', at: n, length: l, times })),
  );
}

/** `bytes` with `m` applied (a new array). */
export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  const at = n === 0 ? 0 : m.at % (n + (m.kind === 'insert' || m.kind === 'truncate' ? 1 : 0));
  const out = Buffer.from(bytes);
  switch (m.kind) {
    case 'truncate':
      return out.subarray(0, at);
    case 'flip':
      if (n > 0) out[at] ^= 1 << m.bit;
      return out;
    case 'overwrite':
      for (let i = 0; i < m.bytes.length && at + i < n; i++) out[at + i] = m.bytes[i];
      return out;
    case 'insert':
      return Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)]);
    case 'delete':
      return Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
    case 'huge': {
      let value = m.value;
      for (let i = 0; i < m.width && at + i < n; i++) {
        out[at + i] = Number(value & 0xffn);
        value >>= 8n;
      }
      return out;
    }
    case 'repeat': {
      const piece = out.subarray(at, at + m.length);
      return Buffer.concat([out.subarray(0, at), ...Array.from({ length: m.times }, () => piece), out.subarray(at)]);
    }
  }
}

/** `valid` with one to `max` mutations applied in turn, with the mutations (for the failure report). */
export function mutated(valid: Uint8Array, max = 3): fc.Arbitrary<{ readonly bytes: Uint8Array; readonly mutations: readonly Mutation[] }> {
  return fc.array(mutation(valid.length), { minLength: 1, maxLength: max }).map((mutations) => ({
    bytes: mutations.reduce<Uint8Array>((bytes, m) => applyMutation(bytes, m), valid),
    mutations,
  }));
}

/**
 * A JSON value changed the ways hand-edited or hostile JSON is: a member deleted, replaced by a value
 * of another type (null, a number, a string, an array, an object, a huge number, a long string), or
 * a member added. `value` is any JSON value; the result is the changed copy.
 */
export function mutatedJson(value: unknown, max = 3): fc.Arbitrary<unknown> {
  const replacement = fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, '', '..', '../../x', 'x'.repeat(10_000)),
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.constant([]),
    fc.constant({}),
    fc.array(fc.integer(), { maxLength: 4 }),
  );
  const step = fc.tuple(fc.nat(), fc.constantFrom('delete', 'replace', 'add'), replacement, fc.string({ maxLength: 6 }));
  return fc.array(step, { minLength: 1, maxLength: max }).map((steps) => {
    const copy = structuredClone(value);
    for (const [pick, action, replacementValue, newKey] of steps) {
      const containers: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) {
          node.forEach((child, i) => {
            containers.push({ parent: node, key: i });
            walk(child);
          });
        } else if (node !== null && typeof node === 'object') {
          for (const [k, child] of Object.entries(node)) {
            containers.push({ parent: node as Record<string, unknown>, key: k });
            walk(child);
          }
        }
      };
      walk(copy);
      if (containers.length === 0) return replacementValue;
      const { parent, key } = containers[pick % containers.length];
      if (action === 'delete') {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
      } else if (action === 'replace') {
        (parent as Record<string | number, unknown>)[key] = replacementValue;
      } else if (!Array.isArray(parent)) {
        parent[newKey] = replacementValue;
      }
    }
    return copy;
  });
}

/** Names a hostile file might put where kbb expects a file name inside a folder. */
export const HOSTILE_NAMES: readonly string[] = [
  '../outside.safetensors',
  '../../outside.safetensors',
  'sub/../../outside.safetensors',
  '/etc/passwd',
  '/tmp/outside.safetensors',
  '..',
  '.',
  '',
  'a\u0000b',
  'C:\\Windows\\x',
  '..\\outside',
];

/**
 * The reader contract for one input: `read()` returns, or throws an `InputError` whose message names
 * `file` (the path or its base name). Anything else (a TypeError, a RangeError, a plain Error, a
 * hang past the timeout) fails with the error and the case that caused it.
 */
export async function expectReadOrRefused(file: string, read: () => unknown, about: unknown = undefined): Promise<'read' | 'refused'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${FUZZ_CASE_TIMEOUT_MS} ms (a hang?)`)), FUZZ_CASE_TIMEOUT_MS);
  });
  try {
    await Promise.race([Promise.resolve().then(read), timeout]);
    return 'read';
  } catch (error) {
    const name = file.split('/').pop() ?? file;
    if (!(error instanceof InputError) || !(error.message.includes(file) || error.message.includes(name))) {
      expect.fail(
        `expected data or an InputError naming ${file}, got ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}\ncase: ${JSON.stringify(about, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
      );
    }
    return 'refused';
  } finally {
    clearTimeout(timer);
  }
}
