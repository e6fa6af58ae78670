import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, type WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';
import { hfBertTokenizer, hfEncodeAll } from '../helpers/hf-tokenizer.js';

const KOBIGBIRD = fixture('kobigbird-tokenizer');

/** Compares ours with the oracle on every text; reports the first few differences, not just a count. */
async function expectSameIds(ours: WordPieceTokenizer, oracle: Awaited<ReturnType<typeof hfBertTokenizer>>, texts: readonly string[]): Promise<void> {
  const expected = await hfEncodeAll(oracle, texts);
  const mismatches: { text: string; ours: number[]; hf: number[] }[] = [];
  texts.forEach((text, i) => {
    const got = Array.from(ours.encode(text));
    if (got.length !== expected[i].length || got.some((id, k) => id !== expected[i][k])) mismatches.push({ text, ours: got, hf: expected[i] });
  });
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(mismatches.length).toBe(0);
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split(/\r\n|\r|\n/);

describe.skipIf(!hasFixtures)('tokenizer parity with Hugging Face tokenizers (Rust) on the KoBigBird vocabulary', async () => {
  const ours = hasFixtures ? await loadTokenizer(KOBIGBIRD) : (undefined as never);
  const oracle = hasFixtures ? await hfBertTokenizer(KOBIGBIRD) : (undefined as never);

  it('every line of the NSMC sample corpus', async () => {
    const texts = lines(fixture('korean-corpus', 'nsmc_sample.txt'));
    expect(texts.length).toBe(4746);
    await expectSameIds(ours, oracle, texts);
  });

  it('every line of the 24 MB NSMC benchmark file (zero mismatches)', async () => {
    const texts = lines(fixture('korean-corpus', 'nsmc_reviews_bench.txt'));
    expect(texts.length).toBe(738046);
    await expectSameIds(ours, oracle, texts);
  });

  it('the whole NSMC sample file as one text, and each document as one text', async () => {
    const whole = readFileSync(fixture('korean-corpus', 'nsmc_sample.txt'), 'utf8');
    await expectSameIds(ours, oracle, [whole, ...whole.split('\n\n')]);
  });

  it('every line of the Big List of Naughty Strings, and the whole list as one text', async () => {
    const whole = readFileSync(fixture('ko-lm-dataformat', 'upstream-test-assets', 'blns.txt'), 'utf8');
    await expectSameIds(ours, oracle, [...lines(fixture('ko-lm-dataformat', 'upstream-test-assets', 'blns.txt')), whole]);
  });

  it('every Unicode scalar value, alone and between word characters', async () => {
    const texts: string[] = [];
    let chunk = '';
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      texts.push(`가${ch}a`);
      chunk += `${ch}${cp % 7 === 0 ? ' ' : ''}`;
      if (chunk.length > 300) {
        texts.push(chunk);
        chunk = '';
      }
    }
    texts.push(chunk);
    await expectSameIds(ours, oracle, texts);
  });

  it('edge inputs: special-token literals, word-length limit, surrogates, controls inside words', async () => {
    const texts = [
      '',
      ' ',
      '[MASK]',
      '[MASK][MASK]',
      '[[MASK]]',
      '[MASK',
      'MASK]',
      '<s></s><s>',
      '</s',
      'a[CLS]b',
      '가[SEP]나 [PAD] [UNK]다',
      '[mask]',
      '가'.repeat(100),
      '가'.repeat(101),
      'a'.repeat(100),
      'a'.repeat(101),
      '😀'.repeat(100),
      '😀'.repeat(101),
      '가😀나',
      '\ud800',
      'a\ud800b',
      'a\udc00b',
      '\udc00\ud800',
      '가\u200b나',
      '가\u00ad나',
      '\ufeff안녕',
      '가\u0085나',
      '가\u2028나',
      '가\u000c나',
      '가\u3000나',
      '가\t나\r\n다',
      '漢字漢字',
      '𠀀𠀁',
      '\ufffe',
      '가\ufffd나',
      'a\u0301',
      'ﬁ',
      'Ⅻ',
      '①②',
      '$100+200=300^2|x~y`z',
    ];
    await expectSameIds(ours, oracle, texts);
  });

  it('word ids and offsets equal the oracle (analyze)', async () => {
    const texts = [...lines(fixture('korean-corpus', 'nsmc_sample.txt')).slice(0, 400), '안녕하세요 [MASK]abc 漢字 테스트입니다.', '가\u200b나 다'];
    const encodings = await oracle.encodeBatch(texts, { addSpecialTokens: false });
    texts.forEach((text, i) => {
      const analysis = ours.analyze(text);
      expect(analysis.tokens).toEqual(encodings[i].getTokens());
      expect(analysis.ids).toEqual(encodings[i].getIds());
      expect(analysis.wordIds).toEqual(encodings[i].getWordIds());
      expect(analysis.offsets).toEqual(encodings[i].getOffsets());
    });
  });

  it('the fused encoder and the staged pipeline agree', () => {
    for (const text of lines(fixture('ko-lm-dataformat', 'upstream-test-assets', 'blns.txt'))) {
      expect(Array.from(ours.encode(text))).toEqual(ours.analyze(text).ids);
    }
  });

  it('reproduces the tokens the reference builder recorded for every string it tokenized (golden-builder cases a, d, f, i)', () => {
    for (const name of ['a_shipped_scaled', 'd_long_seq_chunking', 'f_edge_inputs', 'i_rounding_ties']) {
      const records = readFileSync(fixture('golden-builder', name, 'tokenization.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as { text: string; tokens: string[] });
      expect(records.length).toBeGreaterThan(0);
      for (const { text, tokens } of records) expect(ours.tokenize(text)).toEqual(tokens);
    }
  });
});

describe.skipIf(!hasFixtures)('a tokenizer folder with a tokenizer.json (as the Hugging Face hub ships it)', () => {
  it('loads the tokenizer.json written by the Rust library and tokenizes identically', async () => {
    const { mkdtempSync, rmSync, copyFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'kbb-tokjson-'));
    try {
      const oracle = await hfBertTokenizer(KOBIGBIRD);
      oracle.save(join(dir, 'tokenizer.json'));
      copyFileSync(join(KOBIGBIRD, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
      const fromJson = await loadTokenizer(dir);
      await expectSameIds(fromJson, oracle, [
        ...lines(fixture('korean-corpus', 'nsmc_sample.txt')),
        ...lines(fixture('ko-lm-dataformat', 'upstream-test-assets', 'blns.txt')),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasFixtures)('tokenizer parity with Hugging Face tokenizers for an uncased (lowercase + strip accents) configuration', async () => {
  const oracle = hasFixtures ? await hfBertTokenizer(KOBIGBIRD, { lowercase: true, stripAccents: true }) : (undefined as never);
  const base = hasFixtures ? await loadTokenizer(KOBIGBIRD) : (undefined as never);

  it('NSMC sample and naughty strings', async () => {
    const { WordPieceTokenizer } = await import('../../lib/tokenizer/index.js');
    const uncased = new WordPieceTokenizer(base.model.vocab, base.addedTokens, {
      normalizer: { ...base.options.normalizer, lowercase: true, stripAccents: true },
      wordPiece: base.options.wordPiece,
    });
    const texts = [
      ...lines(fixture('korean-corpus', 'nsmc_sample.txt')),
      ...lines(fixture('ko-lm-dataformat', 'upstream-test-assets', 'blns.txt')),
      'ÀÉÎÕÜ Straße İstanbul ΣΑΣ',
    ];
    await expectSameIds(uncased, oracle, texts);
  });
});
