import { CorpusError, findCorpusFiles } from '../corpus/index.js';
import { fileSystemFor, joinPath, stageOutput } from '../fs/index.js';
import { countCorpusWords } from './count-corpus-words.js';
import type { BertNormalizerOptions } from './normalizer.js';
import { trainedTokenizerFiles } from './trained-tokenizer-files.js';
import { checkTrainerOptions, type TrainedWordPiece, trainWordPieceAsync } from './wordpiece-trainer.js';
import { KBB_VOCAB_DEFAULTS, KOBIGBIRD_MODEL_MAX_LENGTH, type WordPieceTrainerOptions } from './wordpiece-trainer-options.js';

export interface TrainTokenizerOptions extends Partial<WordPieceTrainerOptions> {
  /** The corpus: a folder (every `.txt` and `.jsonl.zst` under it, as the data builder finds them) or one file; local or `gs://`. */
  readonly input: string;
  /** Where the tokenizer folder is written (local or `gs://`). */
  readonly outputDir: string;
  /** How text is normalized, for counting and in the written tokenizer (default: KoBigBird's, cased). */
  readonly normalizer?: BertNormalizerOptions;
  /** tokenizer_config.json's `model_max_length` (default: KoBigBird's 4,096). */
  readonly modelMaxLength?: number;
  /** Replace a tokenizer already in `outputDir` (otherwise that is an error: nothing written is lost). */
  readonly overwrite?: boolean;
  /** Word-counting threads (default: one per core). */
  readonly threads?: number;
  readonly onProgress?: (progress: VocabProgress) => void;
  readonly signal?: AbortSignal;
}

/** Where training is: counting the corpus's words (bytes read of all), or merging (vocabulary size of the target). */
export interface VocabProgress {
  readonly phase: 'count' | 'train';
  readonly done: number;
  readonly total: number;
}

export interface TrainTokenizerResult {
  /** The files written. */
  readonly files: string[];
  readonly corpusFiles: string[];
  readonly corpusBytes: number;
  /** Distinct words, and all words, of the corpus. */
  readonly distinctWords: number;
  readonly totalWords: number;
  readonly trained: TrainedWordPiece;
}

/** The files a trained tokenizer folder holds, in the order they are written. */
export const TRAINED_TOKENIZER_FILE_NAMES = ['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json', 'tokenizer.json'] as const;

/**
 * `kbb vocab`: trains a WordPiece vocabulary on a corpus (see `trainWordPiece`, `countCorpusWords`)
 * and writes a tokenizer folder that kbb, transformers' BertTokenizer(Fast) and the data builder load.
 * The files are written aside and moved into place together (`stageOutput`), so a failure leaves the
 * folder as it was.
 */
export async function trainTokenizer(options: TrainTokenizerOptions): Promise<TrainTokenizerResult> {
  const trainer: WordPieceTrainerOptions = {
    vocabSize: options.vocabSize ?? KBB_VOCAB_DEFAULTS.vocabSize,
    minFrequency: options.minFrequency ?? KBB_VOCAB_DEFAULTS.minFrequency,
    limitAlphabet: options.limitAlphabet ?? KBB_VOCAB_DEFAULTS.limitAlphabet,
    initialAlphabet: options.initialAlphabet ?? KBB_VOCAB_DEFAULTS.initialAlphabet,
    specialTokens: options.specialTokens ?? KBB_VOCAB_DEFAULTS.specialTokens,
    continuingSubwordPrefix: options.continuingSubwordPrefix ?? KBB_VOCAB_DEFAULTS.continuingSubwordPrefix,
  };
  const normalizer = options.normalizer ?? KBB_VOCAB_DEFAULTS.normalizer;
  const fileOptions = {
    specialTokens: trainer.specialTokens,
    normalizer,
    continuingSubwordPrefix: trainer.continuingSubwordPrefix,
    modelMaxLength: options.modelMaxLength ?? KOBIGBIRD_MODEL_MAX_LENGTH,
  };
  // The options' problems before an hour of counting.
  checkTrainerOptions(trainer);
  trainedTokenizerFiles(trainer.specialTokens, fileOptions);

  const output = fileSystemFor(options.outputDir);
  if (!options.overwrite) {
    for (const name of TRAINED_TOKENIZER_FILE_NAMES) {
      const path = joinPath(options.outputDir, name);
      if (await output.stat(path)) throw new Error(`${path} already exists: pass overwrite (--overwrite) to replace the tokenizer in ${options.outputDir}`);
    }
  }
  const corpusFiles = await corpusFilesOf(options.input);
  const counted = await countCorpusWords(corpusFiles, {
    normalizer,
    threads: options.threads,
    signal: options.signal,
    onProgress: (done, total) => options.onProgress?.({ phase: 'count', done, total }),
  });
  if (counted.words.length === 0) throw new CorpusError(options.input, 'no words: the corpus is empty');
  options.signal?.throwIfAborted();
  const trained = await trainWordPieceAsync(counted, trainer, { onProgress: (done, total) => options.onProgress?.({ phase: 'train', done, total }) });
  options.signal?.throwIfAborted();

  // The four files appear together: written aside, then moved into place (see stageOutput).
  const contents = trainedTokenizerFiles(trained.vocab, fileOptions);
  const staged = await stageOutput(options.outputDir, TRAINED_TOKENIZER_FILE_NAMES);
  let files: string[];
  try {
    const stagedFs = fileSystemFor(staged.dir);
    for (const [name, content] of contents) await stagedFs.writeFile(joinPath(staged.dir, name), content);
    files = await staged.publish(TRAINED_TOKENIZER_FILE_NAMES);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  let totalWords = 0;
  for (const count of counted.counts) totalWords += count;
  return { files, corpusFiles, corpusBytes: counted.bytes, distinctWords: counted.words.length, totalWords, trained };
}

async function corpusFilesOf(input: string): Promise<string[]> {
  const info = await fileSystemFor(input).stat(input);
  if (info === undefined) throw new CorpusError(input, 'not found');
  if (!info.isDirectory) return [input];
  const files = await findCorpusFiles(input);
  if (files.length === 0) throw new CorpusError(input, 'no .txt or .jsonl.zst files in this folder');
  return files;
}
