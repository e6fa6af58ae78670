export { CorpusError, type CorpusErrorPlace } from './corpus-error.js';
export { type CorpusFileStats, type CorpusStats, type CorpusStatsOptions, corpusStats } from './corpus-stats.js';
export { CORPUS_SUFFIXES, findCorpusFiles, pathlibString } from './find-corpus-files.js';
export {
  type JsonValue,
  type KoLmMeta,
  type KoLmRecord,
  type KoLmText,
  koLmRecordBatches,
  koLmRecords,
  type StreamDataOptions,
  streamData,
} from './ko-lm-dataformat.js';
export { MAX_LINE_BYTES, MAX_LINE_BYTES_LIMIT } from './max-line-bytes.js';
export { type CorpusSentence, type ReadCorpusOptions, readCorpusFile, readCorpusSentences, readCorpusTexts, type SentenceBatch } from './read-corpus.js';
export { type LineBatch, readTxtLines, type TxtReadOptions, txtLines } from './read-txt-lines.js';
export { ZstdFrameWalker, ZstdStructureError } from './zstd-frames.js';
