export { applyDropout, dropoutMultiplier } from './dropout-multiplier.js';
export { MersenneTwister, type MersenneTwisterState } from './mersenne-twister.js';
export { mixSeeds } from './mix-seeds.js';
export { NumpyLegacyRandom } from './numpy-legacy-random.js';
export { PyRandom } from './py-random.js';
