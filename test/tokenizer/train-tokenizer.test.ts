import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tokenizers from 'tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorpusError, readCorpusTexts } from '../../lib/corpus/index.js';
import { fileSystemFor, joinPath, readFileAt } from '../../lib/fs/index.js';
import { sampleCorpusDir } from '../../lib/package/index.js';
import { buildPretrainingData } from '../../lib/pretraining/index.js';
import {
  countCorpusWords,
  KOBIGBIRD_NORMALIZER,
  KOBIGBIRD_SPECIAL_TOKENS,
  loadTokenizer,
  splitWords,
  TRAINED_TOKENIZER_FILE_NAMES,
  trainTokenizer,
} from '../../lib/tokenizer/index.js';
import { uploadFolder } from '../corpus/support.js';
import { fixture, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { hasGcsEmulator, SKIP_NO_GCS_EMULATOR, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { hfBertTokenizer, hfEncodeAll } from '../helpers/hf-tokenizer.js';

setUpGcsEmulator();

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-train-tokenizer-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const sampleLines = (): string[] =>
  readdirSync(sampleCorpusDir)
    .filter((name) => name.endsWith('.txt'))
    .flatMap((name) => readFileSync(join(sampleCorpusDir, name), 'utf8').split('\n'));

/** Words counted the plain way: every line through the staged normalizer and pre-tokenizer. */
function naiveCounts(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) for (const word of splitWords(line, { ...KOBIGBIRD_NORMALIZER, lowercase: false })) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** A corpus over the threaded-counting threshold: the sample corpus 80 times, each copy's words marked with its number. */
function bigCorpus(name: string, extra = ''): string {
  const lines = sampleLines();
  const out: string[] = [];
  for (let copy = 0; copy < 80; copy++) for (const line of lines) out.push(copy % 7 === 0 ? `${line} 사본${copy}` : line);
  const file = join(dir, name);
  writeFileSync(file, `${out.join('\n')}${extra}\n`);
  return file;
}

describe('countCorpusWords', () => {
  it('counts what the normalizer and pre-tokenizer give, line by line, on one thread or several, holding all words or handing them over', async () => {
    const file = bigCorpus('big.txt');
    const expected = naiveCounts(readFileSync(file, 'utf8').split('\n'));
    for (const options of [{ threads: 1 }, { threads: 3 }, { threads: 1, maxWordsPerThread: 300 }, { threads: 3, maxWordsPerThread: 300 }]) {
      const counted = await countCorpusWords([file], options);
      expect(counted.words.length).toBe(expected.size);
      expect([...counted.words]).toEqual([...expected.keys()].sort());
      expect(counted.words.every((word, i) => counted.counts[i] === expected.get(word))).toBe(true);
    }
  });

  it('reports progress in bytes up to the corpus size', async () => {
    const file = bigCorpus('progress.txt');
    const reports: [number, number][] = [];
    await countCorpusWords([file], { threads: 2, onProgress: (done, total) => reports.push([done, total]) });
    const size = readFileSync(file).length;
    expect(reports.at(-1)).toEqual([size, size]);
    expect(reports.every(([done], i) => i === 0 || done >= reports[i - 1][0])).toBe(true);
  });

  it('names the file, line and byte of bytes that are not UTF-8, on one thread or several', async () => {
    const small = join(dir, 'bad-small.txt');
    writeFileSync(small, Buffer.concat([Buffer.from('첫 줄\n둘째 줄\n셋째 '), Buffer.from([0xff]), Buffer.from(' 줄\n')]));
    const error = await countCorpusWords([small], { threads: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorpusError);
    expect((error as Error).message).toMatch(new RegExp(`^${small} \\(line 3, byte \\d+\\): invalid UTF-8`));

    const big = bigCorpus('bad-big.txt', '\n마지막 \xff 줄'.replace('\xff', '\ufffd'));
    writeFileSync(big, Buffer.concat([readFileSync(big), Buffer.from([0xc3, 0x28, 0x0a])]));
    const lines = readFileSync(big, 'utf8').split('\n').length - 1;
    const threaded = await countCorpusWords([big], { threads: 2 }).catch((e: unknown) => e);
    expect(threaded).toBeInstanceOf(CorpusError);
    expect((threaded as CorpusError).line).toBe(lines);
  });

  it.skipIf(!hasFixtures)(`reads ko_lm_dataformat archives through kbb’s reader${hasFixtures ? '' : ` (${SKIP_NO_FIXTURES})`}`, async () => {
    const archive = fixture('kobigbird-sample-data', 'blns.jsonl.zst');
    const texts: string[] = [];
    for await (const batch of readCorpusTexts(archive)) texts.push(...batch);
    const expected = naiveCounts(texts);
    const counted = await countCorpusWords([archive], { threads: 1 });
    expect(new Map(counted.words.map((w, i) => [w, counted.counts[i]]))).toEqual(expected);
  });
});

describe('trainTokenizer: the folder it writes', () => {
  let out = '';
  beforeAll(async () => {
    out = join(dir, 'trained');
    await trainTokenizer({ input: sampleCorpusDir, outputDir: out, vocabSize: 2000 });
  });

  it('holds vocab.txt with KoBigBird’s special tokens at ids 0–6, and the three JSON files', () => {
    expect(readdirSync(out).sort()).toEqual([...TRAINED_TOKENIZER_FILE_NAMES].sort());
    const vocab = readFileSync(join(out, 'vocab.txt'), 'utf8').split('\n');
    expect(vocab.pop()).toBe('');
    expect(vocab.length).toBe(2000);
    expect(vocab.slice(0, 7)).toEqual([...KOBIGBIRD_SPECIAL_TOKENS]);
    expect(new Set(vocab).size).toBe(2000);
    expect(JSON.parse(readFileSync(join(out, 'special_tokens_map.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(fixtureOrSample('special_tokens_map.json'), 'utf8')),
    );
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(fixtureOrSample('tokenizer_config.json'), 'utf8')),
    );
  });

  it('tokenizes identically in kbb, in Hugging Face from vocab.txt (BertTokenizerFast’s conversion) and from tokenizer.json', async () => {
    const texts = [...sampleLines(), ...(hasFixtures ? readFileSync(fixture('korean-corpus', 'nsmc_sample.txt'), 'utf8').split('\n') : [])];
    const ours = await loadTokenizer(out);
    const oursIds = texts.map((text) => Array.from(ours.encode(text)));
    expect(await hfEncodeAll(await hfBertTokenizer(out), texts)).toEqual(oursIds);
    expect(await hfEncodeAll(tokenizers.Tokenizer.fromFile(join(out, 'tokenizer.json')), texts)).toEqual(oursIds);
    // Every sample-corpus word is made of characters the vocabulary has: no [UNK].
    expect(sampleLines().some((line) => ours.tokenize(line).includes('[UNK]'))).toBe(false);
  });

  it('is what the data builder builds from', async () => {
    const result = await buildPretrainingData({
      inputDir: sampleCorpusDir,
      tokenizerDir: out,
      outputDir: join(dir, 'records'),
      maxSeqLength: 64,
      maxPredictionsPerSeq: 10,
      numProcesses: 1,
      numShards: 1,
    });
    expect(result.tokenizer.vocab_size).toBe(2000);
    expect(result.totals.examples).toBeGreaterThan(100);
  });

  it('is the same, byte for byte, on every run; an existing tokenizer is kept unless overwrite is given', async () => {
    const before = Object.fromEntries(TRAINED_TOKENIZER_FILE_NAMES.map((name) => [name, readFileSync(join(out, name))]));
    const error = await trainTokenizer({ input: sampleCorpusDir, outputDir: out, vocabSize: 2000 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`${join(out, 'vocab.txt')} already exists: pass overwrite (--overwrite) to replace the tokenizer in ${out}`);
    await trainTokenizer({ input: sampleCorpusDir, outputDir: out, vocabSize: 2000, overwrite: true, threads: 2 });
    for (const name of TRAINED_TOKENIZER_FILE_NAMES) expect(readFileSync(join(out, name)).equals(before[name])).toBe(true);
  });

  it('writes lowercasing and accent settings where transformers reads them', async () => {
    const lower = join(dir, 'lower');
    await trainTokenizer({
      input: sampleCorpusDir,
      outputDir: lower,
      vocabSize: 1500,
      normalizer: { ...KOBIGBIRD_NORMALIZER, lowercase: true, stripAccents: true },
    });
    const config = JSON.parse(readFileSync(join(lower, 'tokenizer_config.json'), 'utf8'));
    expect(config.do_lower_case).toBe(true);
    expect(config.strip_accents).toBe(null);
    const ours = await loadTokenizer(lower);
    expect(ours.tokenize('Café ÉCOLE')).toEqual(ours.tokenize('cafe ecole'));
    const texts = sampleLines();
    expect(await hfEncodeAll(await hfBertTokenizer(lower, { lowercase: true, stripAccents: true }), texts)).toEqual(
      texts.map((t) => Array.from(ours.encode(t))),
    );
  });

  it('refuses special tokens a BERT tokenizer cannot do without, before reading the corpus', async () => {
    const error = await trainTokenizer({ input: join(dir, 'missing'), outputDir: join(dir, 'never'), specialTokens: ['[PAD]', '[UNK]'] }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe('a BERT tokenizer needs the special tokens [CLS] [SEP]; add them to the special tokens');
  });

  it.skipIf(!hasGcsEmulator)(
    `reads its corpus from and writes its folder to gs:// (emulator), the same bytes as on disk${hasGcsEmulator ? '' : ` (${SKIP_NO_GCS_EMULATOR})`}`,
    async () => {
      const bucket = `gs://${uniqueBucket('vocab')}`;
      await uploadFolder(sampleCorpusDir, `${bucket}/corpus`);
      const remote = `${bucket}/tokenizer`;
      await trainTokenizer({ input: `${bucket}/corpus`, outputDir: remote, vocabSize: 2000 });
      for (const name of TRAINED_TOKENIZER_FILE_NAMES) expect((await readFileAt(joinPath(remote, name))).equals(readFileSync(join(out, name)))).toBe(true);
      expect(await fileSystemFor(remote).stat(joinPath(remote, 'vocab.txt'))).toBeDefined();
    },
  );
});

/** KoBigBird's own file when the fixtures are there, else the sample tokenizer's copy of it. */
const fixtureOrSample = (name: string): string => (hasFixtures ? fixture('kobigbird-tokenizer', name) : join(sampleCorpusDir, '..', 'sample-tokenizer', name));
