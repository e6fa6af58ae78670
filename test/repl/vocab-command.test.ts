import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { runLine } from '../../repl/interactive/run-line.js';
import type { CommandIo, ProgressOptions } from '../../repl/io/command-io.js';
import { registry } from '../../repl/registry/commands.js';
import { helpText } from '../../repl/registry/help-text.js';
import { findCommand } from '../../repl/registry/registry.js';
import { projectRoot } from '../helpers/fixtures.js';
import { kbb } from './kbb-process.js';

const corpusDir = join(projectRoot, 'data', 'sample-corpus');
const corpusFiles = ['essays.txt', 'everyday.txt', 'science-notes.txt'];
const corpusBytes = corpusFiles.reduce((sum, name) => sum + readFileSync(join(corpusDir, name)).length, 0);
/** What a tokenizer folder holds, as transformers' BertTokenizer(Fast) reads it. */
const FOLDER_FILES = ['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
/** KoBigBird's special tokens, ids 0–6 of its vocab.txt. */
const KOBIGBIRD_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>'];
const VOCAB_SIZE = 2000;

let root = '';
/** The folder every check below reads: `kbb vocab` on the sample corpus, as a user runs it. */
let trained = '';
let firstRun: ReturnType<typeof kbb>;

const vocabArgs = (outputDir: string, ...more: string[]): string[] => [
  'vocab',
  '--input_dir',
  corpusDir,
  '--output_dir',
  outputDir,
  '--vocab_size',
  String(VOCAB_SIZE),
  ...more,
];

/** A folder's files, name → bytes. */
const folderBytes = (dir: string): Record<string, Buffer> => Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));

/** A `kbb` run that failed the way a user error should: status 1, one line on stderr, no stack trace. */
function expectOneLineError(run: ReturnType<typeof kbb>, message: string | RegExp): void {
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr).toMatch(message);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbb-vocab-'));
  trained = join(root, 'tokenizer');
  firstRun = kbb(vocabArgs(trained));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('kbb vocab', () => {
  it('writes a BERT tokenizer folder with the KoBigBird special tokens first and exactly --vocab_size entries', () => {
    expect(firstRun.stderr).toBe('');
    expect(firstRun.status).toBe(0);
    expect(readdirSync(trained).sort()).toEqual(FOLDER_FILES);
    const lines = readFileSync(join(trained, 'vocab.txt'), 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    const vocab = lines.slice(0, -1);
    expect(vocab).toHaveLength(VOCAB_SIZE);
    expect(vocab.slice(0, 7)).toEqual(KOBIGBIRD_SPECIALS);
    expect(new Set(vocab).size).toBe(VOCAB_SIZE);
    expect(vocab.filter((token) => token.startsWith('##')).length).toBeGreaterThan(0);

    expect(firstRun.stdout).toMatch(/^read +3 files, 72\.3 KB: [\d,]+ words, [\d,]+ distinct$/m);
    expect(firstRun.stdout).toMatch(/^trained +2,000 tokens: alphabet [\d,]+, ## alphabet [\d,]+, [\d,]+ merges$/m);
    expect(firstRun.stdout).toMatch(/^stopped +reached --vocab_size 2,000$/m);
    expect(firstRun.stdout).toContain(`vocab.txt, special_tokens_map.json, tokenizer_config.json, tokenizer.json in ${trained}`);
    expect(firstRun.stdout).toMatch(/^took +[\d.]+ s$/m);
  });

  it('the folder loads in kbb and tokenizes the corpus it was trained on without [UNK]', async () => {
    const tokenizer = await loadTokenizer(trained);
    const sentence = readFileSync(join(corpusDir, 'everyday.txt'), 'utf8')
      .split('\n')
      .find((line) => line.startsWith('카페에서'))!;
    const tokens = tokenizer.tokenize(sentence);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens).not.toContain('[UNK]');
    // Every character of the corpus is in the alphabet, so no word of it is unknown.
    for (const file of corpusFiles) {
      const ids = tokenizer.encode(readFileSync(join(corpusDir, file), 'utf8'));
      expect(ids.length).toBeGreaterThan(0);
      expect(Array.from(ids).filter((id) => id === tokenizer.model.unkId)).toEqual([]);
      expect(Math.max(...ids)).toBeLessThan(VOCAB_SIZE);
    }
    expect(tokenizer.tokenToId('[MASK]')).toBe(4);
  });

  it('refuses to replace a tokenizer without --overwrite, naming the file, and leaves it untouched', () => {
    const before = folderBytes(trained);
    const again = kbb(vocabArgs(trained, '--vocab_size', '1800'));
    expectOneLineError(again, `${join(trained, 'vocab.txt')} already exists`);
    expect(again.stderr).toContain('--overwrite');
    expect(folderBytes(trained)).toEqual(before);

    const replaced = join(root, 'replaced');
    expect(kbb(vocabArgs(replaced, '--vocab_size', '1800')).status).toBe(0);
    const overwritten = kbb(vocabArgs(replaced, '--overwrite'));
    expect(overwritten.stderr).toBe('');
    expect(overwritten.status).toBe(0);
    expect(readFileSync(join(replaced, 'vocab.txt'), 'utf8').split('\n')).toHaveLength(VOCAB_SIZE + 1);
    // Determinism: a second run, overwriting another, gives the first run's folder byte for byte.
    expect(folderBytes(replaced)).toEqual(folderBytes(trained));
  });

  it('--json prints the result without the vocabulary, and the run writes the same folder', () => {
    const out = join(root, 'json');
    const run = kbb(vocabArgs(out, '--json', '--threads', '1'));
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.outputDir).toBe(out);
    expect(result.files).toEqual(['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json', 'tokenizer.json'].map((name) => join(out, name)));
    expect(result.corpusFiles).toEqual(corpusFiles.map((name) => join(corpusDir, name)));
    expect(result.corpusBytes).toBe(corpusBytes);
    expect(result.totalWords).toBeGreaterThan(result.distinctWords);
    expect(result.trained).not.toHaveProperty('vocab');
    expect(result.trained.vocabSize).toBe(VOCAB_SIZE);
    expect(result.trained.stoppedBy).toBe('vocab-size');
    const vocab = readFileSync(join(out, 'vocab.txt'), 'utf8').split('\n').slice(0, -1);
    // Ids: special tokens, the alphabet, its ## forms, then one per merge (a merge may yield a token already there).
    expect(vocab.filter((token) => token.startsWith('##') && [...token].length === 3)).toHaveLength(result.trained.continuationAlphabetSize);
    expect(7 + result.trained.alphabetSize + result.trained.continuationAlphabetSize).toBeLessThanOrEqual(VOCAB_SIZE);
    expect(result.trained.merges).toBeGreaterThanOrEqual(VOCAB_SIZE - 7 - result.trained.alphabetSize - result.trained.continuationAlphabetSize);
    expect(folderBytes(out)).toEqual(folderBytes(trained));
  });

  it('bad flags are one-line errors naming the flag, without a stack trace, and nothing is written', () => {
    const out = join(root, 'bad');
    expectOneLineError(kbb(vocabArgs(out, '--vocab_size', '0')), '--vocab_size 0: expected an integer of at least 1');
    expectOneLineError(kbb(['vocab', '--input_dir', join(root, 'no-corpus'), '--output_dir', out]), `${join(root, 'no-corpus')}: not found`);
    // A value that is no integer, or a missing flag, is a usage error from the parser, as for every command.
    const fraction = kbb(vocabArgs(out, '--vocab_size', '1.5'));
    expect(fraction.status).not.toBe(0);
    expect(fraction.stderr).toMatch(/^error: option '--vocab_size <n>' argument '1\.5' is invalid\. expected an integer, got "1\.5"$/m);
    expect(fraction.stderr).not.toMatch(/^\s+at /m);
    const missing = kbb(['vocab', '--output_dir', out]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("required option '--input_dir <dir>' not specified");
    expect(readdirSync(root)).not.toContain('bad');
  });
});

describe('vocab at the kbb> prompt', () => {
  /** The REPL's path, in process: records output and every progress display with its updates. */
  function recordingIo() {
    const bars: { options: ProgressOptions; updates: number[]; stopped: boolean }[] = [];
    const texts: string[] = [];
    const io: CommandIo = {
      signal: new AbortController().signal,
      columns: 100,
      text: (text) => texts.push(text),
      table: () => {},
      json: (value) => texts.push(JSON.stringify(value)),
      progress(options) {
        const bar = { options, updates: [] as number[], stopped: false };
        bars.push(bar);
        return {
          update: (done) => {
            expect(bar.stopped).toBe(false);
            bar.updates.push(done);
          },
          stop: () => {
            bar.stopped = true;
          },
        };
      },
    };
    return { io, bars, texts };
  }

  it('is in the registry and in help, with the defaults of KoBigBird’s vocabulary', () => {
    expect(findCommand(registry, ['vocab']).command?.path).toEqual(['vocab']);
    expect(helpText(registry, [])).toMatch(/^ {2}vocab +train a WordPiece tokenizer/m);
    const help = helpText(registry, ['vocab']);
    expect(help).toContain('usage: vocab --input_dir <dir> --output_dir <dir> [flags]');
    expect(help).toMatch(/--vocab_size <n> +int +32500 /);
    expect(help).toMatch(/--special_tokens <list> +string +\[PAD\],\[UNK\],\[CLS\],\[SEP\],\[MASK\],<s>,<\/s> /);
    expect(help).toMatch(/--continuing_subword_prefix <prefix> +string +## /);
    expect(help).toMatch(/--model_max_length <n> +int +4096 /);
    expect(help).toMatch(/--clean_text +boolean +true /);
    expect(help).toMatch(/--lowercase +boolean +false /);
  });

  it('runs with a bar for counting (bytes of the corpus) and one for merging (vocabulary size of the target)', async () => {
    const out = join(root, 'prompt');
    const { io, bars, texts } = recordingIo();
    const outcome = await runLine(`vocab --input_dir ${corpusDir} --output_dir ${out} --vocab_size ${VOCAB_SIZE} --initial_alphabet ÆØ --lowercase`, {
      registry,
      io,
    });
    expect(outcome).toEqual({ kind: 'done' });
    expect(bars.map((bar) => [bar.options.label, bar.options.unit, bar.options.total, bar.stopped])).toEqual([
      ['counting words', 'bytes', corpusBytes, true],
      ['merging', 'items', VOCAB_SIZE, true],
    ]);
    expect(bars[0].updates.at(-1)).toBe(corpusBytes);
    expect(bars[1].updates.at(-1)).toBe(VOCAB_SIZE);
    expect(texts.join('\n')).toMatch(/^stopped +reached --vocab_size 2,000$/m);
    const vocab = readFileSync(join(out, 'vocab.txt'), 'utf8').split('\n');
    // Never in the corpus, yet in the alphabet; and lowercased text leaves no capital letter.
    expect(vocab).toContain('Æ');
    expect(vocab).toContain('Ø');
    expect(vocab.filter((token) => /^[A-Z]$/.test(token))).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).do_lower_case).toBe(true);
  });

  it('a bad flag at the prompt is an error outcome naming it, before any counting; the prompt carries on', async () => {
    const out = join(root, 'bad-prompt');
    const errorOf = async (flags: string): Promise<string> => {
      const { io, bars } = recordingIo();
      const outcome = await runLine(`vocab --input_dir ${corpusDir} --output_dir ${out} ${flags}`, { registry, io });
      expect(bars).toEqual([]);
      expect(outcome.kind, flags).toBe('error');
      return outcome.kind === 'error' ? outcome.text : '';
    };
    expect(await errorOf('--vocab_size 0')).toBe('error: --vocab_size 0: expected an integer of at least 1');
    expect(await errorOf('--min_frequency -1')).toBe('error: --min_frequency -1: expected an integer of at least 0');
    expect(await errorOf('--threads 0')).toBe('error: --threads 0: expected an integer of at least 1');
    expect(await errorOf('--initial_alphabet "a b"')).toMatch(/^error: --initial_alphabet: " " is whitespace/);
    expect(await errorOf('--special_tokens [UNK],[CLS],[UNK],[SEP]')).toBe('error: --special_tokens: [UNK] is listed twice');
    expect(await errorOf('--special_tokens [PAD],,[UNK]')).toMatch(/^error: --special_tokens "\[PAD\],,\[UNK\]": an entry is empty/);
    expect(await errorOf('--special_tokens [PAD]')).toMatch(/needs the special tokens \[UNK\] \[CLS\] \[SEP\]/);
    expect(await errorOf('--continuing_subword_prefix ""')).toMatch(/^error: --continuing_subword_prefix: expected a non-empty prefix/);
    expect(readdirSync(root)).not.toContain('bad-prompt');
  });
});
