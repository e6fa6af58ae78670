export { BUILD_DEFAULTS, SAMPLE_BUILD_SETTINGS } from './build-defaults.js';
export { findShards, isBuildOutput, MANIFEST_FILE, shardFileName } from './build-files.js';
export {
  type BuildOutputStatistics,
  type BuildOutputStatisticsOptions,
  buildOutputStatistics,
  buildTokenizer,
  readBuildManifest,
  STATISTICS_DEFAULTS,
} from './build-output-statistics.js';
export { BuildError, type BuildManifest, type BuildOptions, buildPretrainingData } from './build-pretraining-data.js';
export type { BuildStats } from './build-stats.js';
export { builderVocab } from './builder-vocab.js';
export { ExampleBuilder, type PackingConfig, type PretrainingExample } from './example-builder.js';
export { toTfExample } from './features.js';
export { createMaskedLmPredictions, type MaskingConfig, roundHalfEven, wordGrams } from './masking.js';
export {
  type MaskingStatistics,
  maskingStatisticsFromManifest,
  mostMaskedTokens,
  type ShardScan,
  type ShardScanOptions,
  type ShardScanVocab,
  scanShards,
  type TokenCount,
} from './masking-statistics.js';
export {
  classifyPrediction,
  decodePretrainingRecord,
  MARK_LEGEND,
  markedToken,
  type PredictionKind,
  type PretrainingRecord,
  type RecordPrediction,
  type RecordToken,
  type RecordVocab,
  recordTokens,
} from './pretraining-record.js';
export { type ReadPretrainingRecordsOptions, readPretrainingRecords, recordVocab } from './read-pretraining-records.js';
export { runJob } from './run-job.js';
export { ownedShards } from './shard-writers.js';
