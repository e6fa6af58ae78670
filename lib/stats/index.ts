export { buildOutputStatistics, type BuildOutputStatistics, type BuildOutputStatisticsOptions, buildTokenizer, MANIFEST_FILE, readBuildManifest } from './build-output-statistics.js';
export { type MaskingStatistics, maskingStatisticsFromManifest, mostMaskedTokens, scanShards, type ShardScan, type ShardScanOptions, type ShardScanVocab, type TokenCount } from './masking-statistics.js';
export { classifyPrediction, decodePretrainingRecord, type PredictionKind, type PretrainingRecord, type RecordPrediction, type RecordToken, recordTokens, type RecordVocab } from './pretraining-record.js';
export { findShards } from './shard-files.js';
export { readPretrainingRecords, type ReadPretrainingRecordsOptions, recordVocab } from './read-pretraining-records.js';
