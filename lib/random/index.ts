export { MersenneTwister } from './mersenne-twister.js';
export { NumpyLegacyRandom } from './numpy-legacy-random.js';
export { PyRandom } from './py-random.js';
