import { relativePath } from '../../lib/fs/index.js';
import { formatDuration } from '../../lib/text/index.js';
import {
  KBB_VOCAB_DEFAULTS,
  KOBIGBIRD_MODEL_MAX_LENGTH,
  type TrainTokenizerOptions,
  type TrainTokenizerResult,
  trainTokenizer,
  type VocabProgress,
} from '../../lib/tokenizer/index.js';
import { formatBytes } from '../format.js';
import type { CommandIo } from '../io/command-io.js';
import { deferredProgress } from '../io/deferred-progress.js';
import { defineCommand, type FlagDefinition, type ParsedArgs } from '../registry/command-definition.js';

/** Separates the entries of --special_tokens. */
const LIST_SEPARATOR = ',';

const vocabFlags = [
  {
    name: 'input_dir',
    type: 'path',
    value: 'dir',
    required: true,
    description: 'corpus folder (or one file), local or gs://bucket/prefix, searched recursively for *.txt and *.jsonl.zst',
  },
  {
    name: 'output_dir',
    type: 'path',
    value: 'dir',
    required: true,
    description: 'where the tokenizer folder goes, local or gs:// (vocab.txt, special_tokens_map.json, tokenizer_config.json, tokenizer.json)',
  },
  {
    name: 'vocab_size',
    type: 'int',
    value: 'n',
    default: KBB_VOCAB_DEFAULTS.vocabSize,
    description: 'vocabulary entries, special tokens and alphabet included',
  },
  {
    name: 'min_frequency',
    type: 'int',
    value: 'n',
    default: KBB_VOCAB_DEFAULTS.minFrequency,
    description: 'training stops at the first pair seen fewer times than this',
  },
  {
    name: 'limit_alphabet',
    type: 'int',
    value: 'n',
    description: 'keep only the n most frequent characters before merging (default: all)',
  },
  {
    name: 'initial_alphabet',
    type: 'string',
    value: 'chars',
    default: KBB_VOCAB_DEFAULTS.initialAlphabet.join(''),
    description: 'characters always in the alphabet, seen or not (each character of the text is one)',
  },
  {
    name: 'special_tokens',
    type: 'string',
    value: 'list',
    default: KBB_VOCAB_DEFAULTS.specialTokens.join(LIST_SEPARATOR),
    description: 'comma-separated tokens given ids 0, 1, …; [UNK], [CLS] and [SEP] are required',
  },
  {
    name: 'continuing_subword_prefix',
    type: 'string',
    value: 'prefix',
    default: KBB_VOCAB_DEFAULTS.continuingSubwordPrefix,
    description: 'marks a piece that continues a word',
  },
  { name: 'lowercase', type: 'boolean', default: KBB_VOCAB_DEFAULTS.normalizer.lowercase, description: 'lowercase the text (an uncased tokenizer)' },
  {
    name: 'strip_accents',
    type: 'boolean',
    default: KBB_VOCAB_DEFAULTS.normalizer.stripAccents,
    description: 'NFD and drop combining marks (this splits Hangul syllables into jamo); uncased BERT pairs it with --lowercase',
  },
  {
    name: 'clean_text',
    type: 'boolean',
    default: KBB_VOCAB_DEFAULTS.normalizer.cleanText,
    description: 'drop control characters and turn every whitespace into a space (--noclean_text to keep them)',
  },
  {
    name: 'handle_chinese_chars',
    type: 'boolean',
    default: KBB_VOCAB_DEFAULTS.normalizer.handleChineseChars,
    description: 'make every CJK ideograph a word of its own',
  },
  {
    name: 'model_max_length',
    type: 'int',
    value: 'n',
    default: KOBIGBIRD_MODEL_MAX_LENGTH,
    description: "tokenizer_config.json's model_max_length: the longest input of the model",
  },
  { name: 'threads', type: 'int', value: 'n', description: 'word-counting threads (default: one per core); the result is the same for any number' },
  { name: 'overwrite', type: 'boolean', description: 'replace a tokenizer already in --output_dir' },
  { name: 'json', type: 'boolean', description: 'print the result as JSON (the vocabulary as its size)' },
] as const satisfies readonly FlagDefinition[];

type VocabFlags = ParsedArgs<typeof vocabFlags, readonly []>;

/** An integer flag's value, or a one-line error naming the flag and what it takes. */
function atLeast(name: string, value: number | undefined, min: number): number | undefined {
  if (value !== undefined && value < min) throw new Error(`--${name} ${value}: expected an integer of at least ${min}`);
  return value;
}

/** `--special_tokens "[PAD],[UNK],…"` as a list; an empty or repeated entry is an error. */
function specialTokens(text: string): string[] {
  const tokens = text.split(LIST_SEPARATOR).map((token) => token.trim());
  if (tokens.some((token) => token === ''))
    throw new Error(`--special_tokens ${JSON.stringify(text)}: an entry is empty (expected tokens separated by commas)`);
  const repeated = tokens.find((token, k) => tokens.indexOf(token) !== k);
  if (repeated !== undefined) throw new Error(`--special_tokens: ${repeated} is listed twice`);
  return tokens;
}

/** `--initial_alphabet "abc"` as its characters (code points); whitespace never occurs inside a word, so it is refused. */
function initialAlphabet(text: string): string[] {
  const chars = [...text];
  const space = chars.find((char) => /\s/u.test(char));
  if (space !== undefined)
    throw new Error(
      `--initial_alphabet: ${JSON.stringify(space)} is whitespace, which is never part of a word (expected the characters themselves, nothing between them)`,
    );
  return chars;
}

/** The flags as the library's options. */
function trainOptions(flags: VocabFlags): TrainTokenizerOptions {
  if (flags.continuing_subword_prefix === '') throw new Error('--continuing_subword_prefix: expected a non-empty prefix (BERT uses ##)');
  return {
    input: flags.input_dir,
    outputDir: flags.output_dir,
    vocabSize: atLeast('vocab_size', flags.vocab_size, 1),
    minFrequency: atLeast('min_frequency', flags.min_frequency, 0),
    limitAlphabet: atLeast('limit_alphabet', flags.limit_alphabet, 0),
    initialAlphabet: initialAlphabet(flags.initial_alphabet),
    specialTokens: specialTokens(flags.special_tokens),
    continuingSubwordPrefix: flags.continuing_subword_prefix,
    normalizer: {
      lowercase: flags.lowercase,
      stripAccents: flags.strip_accents,
      cleanText: flags.clean_text,
      handleChineseChars: flags.handle_chinese_chars,
    },
    modelMaxLength: atLeast('model_max_length', flags.model_max_length, 1),
    threads: atLeast('threads', flags.threads, 1),
    overwrite: flags.overwrite ?? false,
  };
}

/** Trains with a bar per phase: the corpus read (bytes, rate, ETA), then the merges (vocabulary size of the target). */
async function trainWithProgress(options: TrainTokenizerOptions, io: CommandIo): Promise<TrainTokenizerResult> {
  const counting = deferredProgress(io, { label: 'counting words', unit: 'bytes' });
  const merging = deferredProgress(io, { label: 'merging', unit: 'items' });
  let phase: VocabProgress['phase'] = 'count';
  try {
    return await trainTokenizer({
      ...options,
      signal: io.signal,
      onProgress: (progress) => {
        if (progress.phase === 'train' && phase === 'count') counting.stop();
        phase = progress.phase;
        (phase === 'count' ? counting : merging).update(progress.done, progress.total);
      },
    });
  } finally {
    if (phase === 'count') counting.stop();
    merging.stop();
  }
}

const STOPPED_BY: Record<TrainTokenizerResult['trained']['stoppedBy'], (flags: VocabFlags) => string> = {
  'vocab-size': (flags) => `reached --vocab_size ${flags.vocab_size.toLocaleString('en-US')}`,
  'min-frequency': (flags) => `the next pair is seen fewer than --min_frequency ${flags.min_frequency} times`,
  'no-pairs': () => 'no pairs left to merge',
};

/** The result without the vocabulary itself, which the folder holds. */
function resultJson(result: TrainTokenizerResult, outputDir: string, seconds: number): object {
  const { vocab, ...trained } = result.trained;
  return { outputDir, ...result, trained: { vocabSize: vocab.length, ...trained }, seconds };
}

function describeResult(result: TrainTokenizerResult, flags: VocabFlags, seconds: number): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const t = result.trained;
  return [
    `read      ${n(result.corpusFiles.length)} file${result.corpusFiles.length === 1 ? '' : 's'}, ${formatBytes(result.corpusBytes)}: ${n(result.totalWords)} words, ${n(result.distinctWords)} distinct`,
    `trained   ${n(t.vocab.length)} tokens: alphabet ${n(t.alphabetSize)}, ${flags.continuing_subword_prefix} alphabet ${n(t.continuationAlphabetSize)}, ${n(t.merges)} merges`,
    // The reference keeps the whole alphabet, whatever the target: only --limit_alphabet trims it.
    t.vocab.length > flags.vocab_size
      ? `stopped   before any merge: the special tokens and alphabet alone exceed --vocab_size ${n(flags.vocab_size)} (--limit_alphabet trims the alphabet)`
      : `stopped   ${STOPPED_BY[t.stoppedBy](flags)}`,
    `wrote     ${result.files.map((file) => relativePath(flags.output_dir, file) || file).join(', ')} in ${flags.output_dir}`,
    `took      ${seconds < 60 ? `${seconds.toFixed(2)} s` : formatDuration(seconds)}`,
  ].join('\n');
}

export const vocabCommand = defineCommand({
  path: ['vocab'],
  description: "train a WordPiece tokenizer on a corpus, as Hugging Face tokenizers' WordPieceTrainer does (deterministic), into a BERT tokenizer folder",
  flags: vocabFlags,
  async run(flags, io) {
    const options = trainOptions(flags);
    const started = performance.now();
    const result = await trainWithProgress(options, io);
    const seconds = (performance.now() - started) / 1000;
    if (flags.json) return io.json(resultJson(result, flags.output_dir, seconds), { indent: 2 });
    io.text(describeResult(result, flags, seconds));
  },
});
