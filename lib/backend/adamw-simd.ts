import { instantiateSimdModule, type SimdMemory } from '../simd/index.js';
import { ADAMW_SIMD_WASM } from './adamw-simd-binary.js';
import type { fusedAdamWUpdate } from './adamw-update.js';

/**
 * AdamW's one-pass update (adamw-update.ts) in WebAssembly SIMD, bit for bit the same: four lanes of
 * IEEE single-precision arithmetic (adamw-simd.wat) where JavaScript rounds each float64 step with
 * Math.fround at about 9 ns an element. The tensors live in ordinary ArrayBuffers, so the update walks
 * them a chunk at a time: p, g, m, v copied into the module's memory, updated there, p, m, v copied
 * out. A chunk of all four arrays fits in the L2 cache, so the copies cost little beyond the pass
 * over main memory that any update makes.
 */

/** Elements per chunk: four arrays of 64 KiB, 256 KiB in all. */
const CHUNK = 1 << 14;

interface AdamWSimdExports {
  readonly memory: SimdMemory;
  bert(n: number, b1: number, ob1: number, b2: number, ob2: number, c2: number, eps: number, wd: number, lr: number, decays: number): void;
  pytorch(n: number, b1: number, ob1: number, b2: number, ob2: number, c2: number, eps: number, keep: number, stepSize: number, decays: number): void;
}

let module: AdamWSimdExports | null | undefined;

/** The module, instantiated on first use; undefined where this WebAssembly has no SIMD. */
function adamWSimd(): AdamWSimdExports | undefined {
  if (module === undefined) module = instantiateSimdModule<AdamWSimdExports>(ADAMW_SIMD_WASM, 4 * CHUNK * 4) ?? null;
  return module ?? undefined;
}

/** Whether `adamWUpdateSimd` can run here (WebAssembly SIMD, in every Node kbb supports). */
export function hasAdamWSimd(): boolean {
  return adamWSimd() !== undefined;
}

const f = Math.fround;

/** `fusedAdamWUpdate`'s arguments and result, in WebAssembly SIMD. */
export function adamWUpdateSimd(...[variable, grad, m, v, attrs, out]: Parameters<typeof fusedAdamWUpdate>): void {
  const simd = adamWSimd();
  if (simd === undefined) throw new Error('adamWUpdateSimd: this WebAssembly engine has no SIMD');
  const heap = new Float32Array(simd.memory.buffer, 0, 4 * CHUNK);
  const decays = attrs.weightDecay !== 0 ? 1 : 0;
  // The flavour's last two constants: bert's weight decay and learning rate, pytorch's decay factor and step size.
  const [c1, c2] =
    attrs.flavour === 'bert'
      ? [f(attrs.weightDecay), f(attrs.learningRate)]
      : [f(1 - attrs.learningRate * attrs.weightDecay), f(attrs.learningRate / attrs.correction1)];
  const update = attrs.flavour === 'bert' ? simd.bert : simd.pytorch;
  const [b1, ob1, b2, ob2] = [f(attrs.beta1), f(1 - attrs.beta1), f(attrs.beta2), f(1 - attrs.beta2)];
  const [correction2, eps] = [f(attrs.correction2), f(attrs.epsilon)];
  for (let start = 0; start < variable.length; start += CHUNK) {
    const length = Math.min(CHUNK, variable.length - start);
    // A chunk's four arrays sit `lanes` floats apart: the module steps four at a time.
    const lanes = (length + 3) & ~3;
    const end = start + length;
    heap.set(variable.subarray(start, end), 0);
    heap.set(grad.subarray(start, end), lanes);
    heap.set(m.subarray(start, end), 2 * lanes);
    heap.set(v.subarray(start, end), 3 * lanes);
    update(lanes, b1, ob1, b2, ob2, correction2, eps, c1, c2, decays);
    out.variable.set(heap.subarray(0, length), start);
    out.m.set(heap.subarray(2 * lanes, 2 * lanes + length), start);
    out.v.set(heap.subarray(3 * lanes, 3 * lanes + length), start);
  }
}
