export { findShards, isBuildOutput, MANIFEST_FILE, shardFileName } from './build-files.js';
export { BUILD_DEFAULTS, SAMPLE_BUILD_SETTINGS } from './build-defaults.js';
export { type BuildManifest, BuildError, type BuildOptions, buildPretrainingData } from './build-pretraining-data.js';
export { type BuildStats } from './build-stats.js';
export { builderVocab } from './builder-vocab.js';
export { ExampleBuilder, type PackingConfig, type PretrainingExample } from './example-builder.js';
export { toTfExample } from './features.js';
export { createMaskedLmPredictions, type MaskingConfig, roundHalfEven, wordGrams } from './masking.js';
export { runJob } from './run-job.js';
export { ownedShards } from './shard-writers.js';
export { buildOutputStatistics, type BuildOutputStatistics, type BuildOutputStatisticsOptions, buildTokenizer, readBuildManifest } from './build-output-statistics.js';
export { type MaskingStatistics, maskingStatisticsFromManifest, mostMaskedTokens, scanShards, type ShardScan, type ShardScanOptions, type ShardScanVocab, type TokenCount } from './masking-statistics.js';
export {
  classifyPrediction,
  decodePretrainingRecord,
  MARK_LEGEND,
  markedToken,
  type PredictionKind,
  type PretrainingRecord,
  type RecordPrediction,
  type RecordToken,
  recordTokens,
  type RecordVocab,
} from './pretraining-record.js';
export { readPretrainingRecords, type ReadPretrainingRecordsOptions, recordVocab } from './read-pretraining-records.js';
