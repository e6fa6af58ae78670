export { CorpusError } from './corpus-error.js';
export { type CorpusFileStats, type CorpusStats, type CorpusStatsOptions, corpusStats } from './corpus-stats.js';
export { CORPUS_SUFFIXES, findCorpusFiles } from './find-corpus-files.js';
export { type KoLmMeta, type KoLmRecord, type KoLmText, koLmRecords, type StreamDataOptions, streamData } from './ko-lm-dataformat.js';
export { type CorpusSentence, type ReadCorpusOptions, readCorpusFile, type SentenceBatch } from './read-corpus.js';
export { type LineBatch, readTxtLines, type TxtReadOptions, txtLines } from './read-txt-lines.js';
