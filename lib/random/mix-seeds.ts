/**
 * A 31-bit seed from a seed and an index (a step, a dropout site), so that one run seed gives every
 * step and site a seed of its own, the same in every run and after a resume. SplitMix32's finaliser
 * over the two words: neighbouring indices give unrelated seeds.
 */
export function mixSeeds(seed: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b9) ^ (index | 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h & 0x7fffffff;
}
