import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tokenizers from 'tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AddedTokenMatcher,
  bertNormalize,
  bertPreTokenize,
  CharClass,
  charClass,
  IdBuffer,
  loadTokenizer,
  parseVocab,
  WordPiece,
  WordPieceTokenizer,
} from '../../lib/tokenizer/index.js';

const KOREAN = { cleanText: true, handleChineseChars: true, lowercase: false, stripAccents: false } as const;

describe('character classes (the table generated from the Rust library)', () => {
  it('classifies the characters the spec names', () => {
    expect(charClass(0x20)).toBe(CharClass.Whitespace);
    expect(charClass(0x3000)).toBe(CharClass.Whitespace);
    expect(charClass(0x2028)).toBe(CharClass.Whitespace);
    // Controls are removed before the whitespace test, so these join their neighbours.
    expect(charClass(0x0c)).toBe(CharClass.Removed);
    expect(charClass(0x85)).toBe(CharClass.Removed);
    expect(charClass(0xad)).toBe(CharClass.Removed);
    expect(charClass(0x200b)).toBe(CharClass.Removed);
    expect(charClass(0xfeff)).toBe(CharClass.Removed);
    expect(charClass(0xfffd)).toBe(CharClass.Removed);
    // U+FFFE is unassigned but not "other" for the Rust crate: an ordinary character.
    expect(charClass(0xfffe)).toBe(CharClass.Word);
    expect(charClass('漢'.codePointAt(0)!)).toBe(CharClass.Cjk);
    expect(charClass(0x2b920)).toBe(CharClass.Cjk); // the Rust range starts at 2B920, not 2B820
    expect(charClass(0x2b820)).toBe(CharClass.Word);
    for (const c of '$+<=>^`|~!?.,') expect(charClass(c.codePointAt(0)!)).toBe(CharClass.Punctuation);
    expect(charClass('가'.codePointAt(0)!)).toBe(CharClass.Word);
  });
});

describe('normalizer stage', () => {
  it('drops controls, maps whitespace to spaces, pads CJK, keeps alignment to the original', () => {
    const n = bertNormalize('가\u200b나\t漢x', KOREAN);
    expect(n.text).toBe('가나  漢 x');
    expect(n.start).toEqual([0, 2, 3, 4, 4, 4, 5]);
    expect(n.end).toEqual([1, 3, 4, 5, 5, 5, 6]);
  });

  it('lowercases and strips accents when asked', () => {
    expect(bertNormalize('ÀbÇ', { ...KOREAN, lowercase: true, stripAccents: true }).text).toBe('abc');
    expect(bertNormalize('ÀbÇ', KOREAN).text).toBe('ÀbÇ');
  });

  it("strips accents and lowercases every code point as the Rust normalizer does (not by the Node version's Unicode tables)", () => {
    // U+07FD and U+0897 are marks for V8's ICU but not for the Rust library; 가 becomes jamo.
    expect(bertNormalize('a\u07fdb\u0897가', { ...KOREAN, stripAccents: true }).text).toBe('a\u07fdb\u0897\u1100\u1161');
    for (const [lowercase, stripAccents] of [
      [true, true],
      [false, true],
      [true, false],
    ]) {
      const options = { cleanText: false, handleChineseChars: false, lowercase, stripAccents };
      const rust = tokenizers.bertNormalizer(options);
      const mismatches: string[] = [];
      for (let cp = 0; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        const ch = String.fromCodePoint(cp);
        if (bertNormalize(ch, options).text !== rust.normalizeString(ch)) mismatches.push(`U+${cp.toString(16)}`);
      }
      expect({ lowercase, stripAccents, mismatches: mismatches.slice(0, 10), count: mismatches.length }).toEqual({
        lowercase,
        stripAccents,
        mismatches: [],
        count: 0,
      });
    }
  });
});

describe('pre-tokenizer stage', () => {
  it('splits on whitespace and isolates punctuation', () => {
    expect(bertPreTokenize('안녕, 세상!  a$b').map((w) => [w.text, w.start, w.end])).toEqual([
      ['안녕', 0, 2],
      [',', 2, 3],
      ['세상', 4, 6],
      ['!', 6, 7],
      ['a', 9, 10],
      ['$', 10, 11],
      ['b', 11, 12],
    ]);
  });
});

describe('WordPiece model stage', () => {
  const vocab = parseVocab(['[UNK]', '안', '안녕', '##하', '##세요', '##세', 'a', '##b', '😀', '##😀'].join('\n'));
  const model = new WordPiece(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 5 });
  const ids = (word: string): number[] => {
    const out = new IdBuffer(4);
    model.tokenizeRange(word, 0, word.length, out);
    return Array.from(out.toArray());
  };

  it('takes the longest prefix, then the longest continuation', () => {
    expect(ids('안녕하세요')).toEqual([2, 3, 4]);
    expect(ids('안하')).toEqual([1, 3]);
  });

  it('turns the whole word into [UNK] when any position cannot be matched', () => {
    expect(ids('안녕x')).toEqual([0]);
    expect(ids('하')).toEqual([0]); // a continuation piece cannot start a word
  });

  it('counts the word-length limit in code points, not UTF-16 units', () => {
    expect(ids('😀😀😀😀😀')).toEqual([8, 9, 9, 9, 9]); // 5 code points, 10 units: allowed
    expect(ids('😀😀😀😀😀😀')).toEqual([0]);
    expect(ids('ab')).toEqual([6, 7]);
  });
});

describe('added tokens', () => {
  it('matches leftmost-longest on raw text', () => {
    const matcher = new AddedTokenMatcher(
      new Map([
        ['[MASK]', 4],
        ['<s>', 5],
        ['</s>', 6],
        ['<s>x', 9],
      ]),
    );
    expect(matcher.split('a<s>x</s>[MASK]b')).toEqual([
      { kind: 'text', start: 0, end: 1 },
      { kind: 'added', start: 1, end: 5, id: 9 },
      { kind: 'added', start: 5, end: 9, id: 6 },
      { kind: 'added', start: 9, end: 15, id: 4 },
      { kind: 'text', start: 15, end: 16 },
    ]);
  });
});

describe('the assembled tokenizer on a folder written here', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbb-tok-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const vocabLines = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>', '[unused0]', '안녕', '##하', '##세요', '.', '漢', '字', '가', '##나'];
  writeFileSync(join(dir, 'vocab.txt'), `${vocabLines.join('\r\n')}\r\n`);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, tokenize_chinese_chars: true, strip_accents: null }));
  writeFileSync(
    join(dir, 'special_tokens_map.json'),
    JSON.stringify({
      bos_token: '<s>',
      eos_token: '</s>',
      unk_token: '[UNK]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      cls_token: '[CLS]',
      mask_token: '[MASK]',
    }),
  );

  it('loads a CRLF vocab.txt and tokenizes through all stages', async () => {
    const tokenizer = await loadTokenizer(dir);
    expect(tokenizer.vocabSize).toBe(16);
    expect(tokenizer.tokenize('안녕하세요. 漢字[MASK]가\u200b나 모름')).toEqual(['안녕', '##하', '##세요', '.', '漢', '字', '[MASK]', '가', '##나', '[UNK]']);
    expect(Array.from(tokenizer.encode('<s>안녕</s>'))).toEqual([5, 8, 6]);
    expect(tokenizer.isContinuation[9]).toBe(1);
    expect(tokenizer.isContinuation[8]).toBe(0);
  });

  it('gives word ids and offsets', async () => {
    const tokenizer = await loadTokenizer(dir);
    const analysis = tokenizer.analyze('안녕하세요 가나');
    expect(analysis.tokens).toEqual(['안녕', '##하', '##세요', '가', '##나']);
    expect(analysis.wordIds).toEqual([0, 0, 0, 1, 1]);
    expect(analysis.offsets).toEqual([
      [0, 2],
      [2, 3],
      [3, 5],
      [6, 7],
      [7, 8],
    ]);
  });

  it('the fused encoder equals the staged pipeline on awkward input', async () => {
    const tokenizer = await loadTokenizer(dir);
    for (const text of ['', ' ', '\u200b', '가\u200b', '\u200b나', '안녕\u200b\u200b하', '[MASK][MASK]', '가[SEP]나', '\ud800가', '漢\u200b字']) {
      expect(Array.from(tokenizer.encode(text))).toEqual(tokenizer.analyze(text).ids);
    }
  });

  it('encodeBatch returns the same ids as encode, flat with offsets', async () => {
    const tokenizer = await loadTokenizer(dir);
    const texts = ['안녕하세요', '', '가나 가'];
    const { ids, offsets } = tokenizer.encodeBatch(texts);
    texts.forEach((text, k) => {
      expect(Array.from(ids.subarray(offsets[k], offsets[k + 1]))).toEqual(Array.from(tokenizer.encode(text)));
    });
  });

  it('rejects a folder without a vocabulary, and a vocabulary without the unknown token, naming the file', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kbb-tok-empty-'));
    await expect(loadTokenizer(empty)).rejects.toThrow(/no vocab\.txt or tokenizer\.json/);
    writeFileSync(join(empty, 'vocab.txt'), 'a\nb\n');
    await expect(loadTokenizer(empty)).rejects.toThrow(/vocab\.txt: the unknown token "\[UNK\]" is not in the vocabulary/);
    writeFileSync(join(empty, 'tokenizer_config.json'), '{oops');
    await expect(loadTokenizer(empty)).rejects.toThrow(/tokenizer_config\.json: invalid JSON/);
    rmSync(empty, { recursive: true, force: true });
  });
});

describe('vocab.txt parsing', () => {
  it('uses universal newlines, keeps empty lines as tokens, later duplicates win', () => {
    const vocab = parseVocab('a\r\nb\rc\n\nd\na\n');
    expect([...vocab]).toEqual([
      ['a', 5],
      ['b', 1],
      ['c', 2],
      ['', 3],
      ['d', 4],
    ]);
  });
});

describe('a tokenizer built directly', () => {
  it('lets every stage be configured', () => {
    const vocab = parseVocab('[UNK]\n漢字\n漢\n字');
    const cjkAsWords = new WordPieceTokenizer(vocab, new Map(), {
      normalizer: { ...KOREAN, handleChineseChars: false },
      wordPiece: { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 },
    });
    expect(cjkAsWords.tokenize('漢字')).toEqual(['漢字']);
  });
});
