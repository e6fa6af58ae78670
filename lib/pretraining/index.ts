export { BUILD_DEFAULTS, SAMPLE_BUILD_SETTINGS } from './build-defaults.js';
export { BuildError } from './build-error.js';
export {
  findShards,
  isBuildOutput,
  jobManifestFileName,
  MANIFEST_FILE,
  parseJobManifestFileName,
  parseShardFileName,
  shardFileName,
} from './build-files.js';
export { type BuildManifest, isJobManifest, type JobManifest, parseBuildManifest, parseJobManifest } from './build-manifest.js';
export {
  type BuildOutputStatistics,
  type BuildOutputStatisticsOptions,
  buildOutputStatistics,
  buildTokenizer,
  readBuildManifest,
  STATISTICS_DEFAULTS,
} from './build-output-statistics.js';
export { type BuildOptions, buildPretrainingData, validateBuildOptions } from './build-pretraining-data.js';
export type { BuildStats } from './build-stats.js';
export { builderVocab } from './builder-vocab.js';
export { ExampleBuilder, type PackingConfig, type PretrainingExample } from './example-builder.js';
export { toTfExample } from './features.js';
export { finishBuild } from './finish-build.js';
export { type BuildJobSettings, buildFinishCommandLine, buildJobCommandLine } from './job-command-line.js';
export { JOB_INDEX_VARIABLES, type JobIndex, type JobIndexVariable, type ResolveJobIndexOptions, resolveJobIndex } from './job-index.js';
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
