export { type BuildManifest, BuildError, type BuildOptions, buildPretrainingData } from './build-pretraining-data.js';
export { type BuildStats } from './build-stats.js';
export { builderVocab } from './builder-vocab.js';
export { ExampleBuilder, type PackingConfig, type PretrainingExample } from './example-builder.js';
export { toTfExample } from './features.js';
export { createMaskedLmPredictions, type MaskingConfig, roundHalfEven, wordGrams } from './masking.js';
export { PyRandom } from './py-random.js';
export { runJob } from './run-job.js';
export { ownedShards, shardFileName } from './shard-writers.js';
