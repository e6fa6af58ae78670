import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tokenizers from 'tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { bertTokenizerJson, formatTokenizerJson, loadTokenizer, saveTokenizerFolder, type WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { tokenizerConfigText } from '../../lib/tokenizer/tokenizer-config-text.js';
import { fixture, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { KOBIGBIRD_SPECIALS } from '../helpers/hf-tokenizer.js';

const KOBIGBIRD = fixture('kobigbird-tokenizer');
const TOKENIZER_FILES = ['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];

const tempRoot = mkdtempSync(join(tmpdir(), 'kbb-tokenizer-json-'));
let tempCount = 0;
const tempDir = (): string => join(tempRoot, String(tempCount++));
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));

const lines = (file: string): string[] => readFileSync(file, 'utf8').split(/\r\n|\r|\n/);
const bytes = (file: string): Buffer => readFileSync(file);

/** Texts that exercise added-token matching and every normalizer setting. */
const HAND_WRITTEN = [
  '',
  ' ',
  'hello world',
  'Hello World HELLO',
  'héllo wörld Café naïve',
  'cafe\u0301 CAFE\u0301',
  'Straße STRASSE İstanbul ΣΑΣ',
  '<s>hello</s>',
  '<s></s><s>',
  'a<s>b</s>c',
  '</s',
  'hel[MASK]lo',
  '[MASK][MASK]',
  '[[MASK]]',
  '[mask] [Mask]',
  '[CLS] a [SEP] b [SEP]',
  '[PAD][UNK]',
  '漢字 가나다 안녕',
  '漢字漢字 a漢b',
  '가\u200b나 다',
  'a\u0000b\u0007c\u001fd',
  'a\tb\r\nc\u000bd\u000ce',
  '\ufeffhello',
  'a\ufffdb',
  'a\u0085b a\u2028b a\u3000b',
  'x'.repeat(100),
  'x'.repeat(101),
  `hello, world! "quoted" it's 2019/10-1`,
  '10 0 1 2 2019 100',
  '😀 hello 😀😀',
  'ﬁ Ⅻ ①②',
  '\ud800 a\udc00b',
];

interface Expected {
  readonly cls: number;
  readonly sep: number;
}

/**
 * The Rust tokenizer loaded from our tokenizer.json against kbb's tokenizer: ids without special
 * tokens, `[CLS] a [SEP]`, and `[CLS] a [SEP] b [SEP]` with type ids 0…0 1…1 (each text paired with
 * the next). Reports the first differences, not just a count.
 */
async function expectSameEncodings(ours: WordPieceTokenizer, hf: tokenizers.Tokenizer, texts: readonly string[], { cls, sep }: Expected): Promise<void> {
  const plain = await hf.encodeBatch([...texts], { addSpecialTokens: false });
  const single = await hf.encodeBatch([...texts], { addSpecialTokens: true });
  const pairs = await Promise.all(texts.map((text, i) => hf.encode(text, texts[(i + 1) % texts.length], { addSpecialTokens: true })));
  const mismatches: unknown[] = [];
  texts.forEach((text, i) => {
    const a = Array.from(ours.encode(text));
    const b = Array.from(ours.encode(texts[(i + 1) % texts.length]));
    const cases = [
      { kind: 'plain', ids: a, typeIds: a.map(() => 0), hf: plain[i] },
      { kind: 'single', ids: [cls, ...a, sep], typeIds: Array(a.length + 2).fill(0), hf: single[i] },
      { kind: 'pair', ids: [cls, ...a, sep, ...b, sep], typeIds: [...Array(a.length + 2).fill(0), ...Array(b.length + 1).fill(1)], hf: pairs[i] },
    ];
    for (const c of cases) {
      const hfIds = c.hf.getIds();
      const hfTypeIds = c.hf.getTypeIds();
      if (JSON.stringify(hfIds) !== JSON.stringify(c.ids) || JSON.stringify(hfTypeIds) !== JSON.stringify(c.typeIds)) {
        mismatches.push({ kind: c.kind, text, ours: c.ids, hf: hfIds, oursTypeIds: c.typeIds, hfTypeIds });
      }
    }
  });
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(mismatches.length).toBe(0);
}

async function expectSameIds(a: WordPieceTokenizer, b: WordPieceTokenizer, texts: readonly string[]): Promise<void> {
  const mismatches = texts.filter((text) => JSON.stringify(Array.from(a.encode(text))) !== JSON.stringify(Array.from(b.encode(text))));
  expect(mismatches.slice(0, 5)).toEqual([]);
}

/** The Rust library's own pretty serialization of a tokenizer.json: ours must read back unchanged. */
function rustResaved(file: string): string {
  const out = join(tempDir(), 'tokenizer.json');
  mkdirSync(join(out, '..'), { recursive: true });
  tokenizers.Tokenizer.fromFile(file).save(out, true);
  return readFileSync(out, 'utf8');
}

/** Writes a tokenizer folder from parts; returns its path. */
function writeFolder(files: Readonly<Record<string, string>>): string {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const BASE_VOCAB = [
  ...'abcdefghijklmnopqrstuvwxyz'.split(''),
  ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `##${c}`),
  'hello',
  'world',
  'cafe',
  'naive',
  'strasse',
  'the',
  '##ing',
  '##llo',
  '漢',
  '字',
  '가',
  '나',
  '##나',
  '다',
  '##다',
  '안녕',
  '.',
  ',',
  '!',
  '?',
  '[',
  ']',
  '<',
  '>',
  '/',
  '-',
  "'",
  '"',
  // Index-like tokens: a plain JS object would move these to the front of model.vocab.
  '0',
  '1',
  '2',
  '10',
  '2019',
  'é',
  'ß',
];

/** Uncased: lowercase with strip_accents null (so accents are stripped too), the config already complete. */
const UNCASED = {
  'vocab.txt': `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...BASE_VOCAB].join('\n')}\n`,
  'special_tokens_map.json': JSON.stringify({ unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' }),
  'tokenizer_config.json': `${JSON.stringify({ do_lower_case: true, strip_accents: null, tokenize_chinese_chars: true, model_max_length: 512, tokenizer_class: 'BertTokenizer' }, null, 2)}\n`,
};

/**
 * Cased with strip_accents true and no CJK padding; `<s>`/`</s>` as cls/sep, `</s>` missing from
 * vocab.txt (so it is an added token past the vocabulary, listed in added_tokens.json), and a
 * one-line tokenizer_config.json without model_max_length or tokenizer_class.
 */
const CASED_STRIP = {
  'vocab.txt': `${['[PAD]', '[UNK]', '<s>', '[MASK]', 'Hello', 'World', '漢字', ...BASE_VOCAB].join('\n')}\n`,
  'special_tokens_map.json': JSON.stringify({
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '[UNK]',
    sep_token: '</s>',
    pad_token: '[PAD]',
    cls_token: '<s>',
    mask_token: '[MASK]',
  }),
  'tokenizer_config.json': JSON.stringify({ do_lower_case: false, strip_accents: true, tokenize_chinese_chars: false }),
  'added_tokens.json': JSON.stringify({ '</s>': 7 + BASE_VOCAB.length }),
};

/** Every character up to U+3000 between word characters: the normalizer's tables on the uncommon paths. */
const EVERY_BMP_START = Array.from({ length: 0x3000 }, (_, cp) => (cp >= 0xd800 && cp <= 0xdfff ? '' : `a${String.fromCodePoint(cp)}b`));

describe('tokenizer.json for small vocabularies the test writes (no fixtures needed)', () => {
  it('uncased (lowercase, strip_accents null): the Rust tokenizer loaded from it encodes like kbb, with and without [CLS]/[SEP]', async () => {
    expect(new Set(BASE_VOCAB).size).toBe(BASE_VOCAB.length);
    const source = writeFolder(UNCASED);
    const out = tempDir();
    const written = await saveTokenizerFolder(source, out, { modelMaxLength: 512 });
    expect(written).toEqual(['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json', 'tokenizer.json'].map((f) => join(out, f)));
    expect(readdirSync(out).sort()).toEqual(TOKENIZER_FILES);

    const json = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    expect(json.normalizer).toEqual({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true });
    expect(Object.keys(json.normalizer)).toEqual(['type', 'clean_text', 'handle_chinese_chars', 'strip_accents', 'lowercase']);
    expect(Object.keys(json)).toEqual([
      'version',
      'truncation',
      'padding',
      'added_tokens',
      'normalizer',
      'pre_tokenizer',
      'post_processor',
      'decoder',
      'model',
    ]);
    expect(json.added_tokens.map((t: { content: string; id: number }) => [t.content, t.id])).toEqual([
      ['[PAD]', 0],
      ['[UNK]', 1],
      ['[CLS]', 2],
      ['[SEP]', 3],
      ['[MASK]', 4],
    ]);
    expect(json.post_processor.special_tokens).toEqual({
      '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
    });
    // In id order in the text, index-like tokens included.
    const vocabText = readFileSync(join(out, 'tokenizer.json'), 'utf8').split('"vocab": {')[1];
    const order = [...vocabText.matchAll(/^ {6}("(?:[^"\\]|\\.)*"): (\d+)/gm)].map((m) => Number(m[2]));
    expect(order).toEqual(Array.from({ length: 5 + BASE_VOCAB.length }, (_, i) => i));

    const ours = await loadTokenizer(source);
    const hf = tokenizers.Tokenizer.fromFile(join(out, 'tokenizer.json'));
    expect(hf.getVocabSize()).toBe(ours.vocabSize);
    expect(hf.getVocabSize()).toBe(5 + BASE_VOCAB.length);
    for (const [token, id] of [
      ['[PAD]', 0],
      ['[UNK]', 1],
      ['[CLS]', 2],
      ['[SEP]', 3],
      ['[MASK]', 4],
    ] as const) {
      expect(hf.tokenToId(token)).toBe(id);
      expect(hf.idToToken(id)).toBe(token);
    }
    await expectSameEncodings(ours, hf, [...HAND_WRITTEN, ...EVERY_BMP_START], { cls: 2, sep: 3 });
    // The uncased path really is exercised: kbb lowercases and strips here.
    expect(ours.tokenize('HÉLLO Café')).toEqual(['hello', 'cafe']);

    expect(rustResaved(join(out, 'tokenizer.json'))).toBe(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    await expectSameIds(await loadTokenizer(out), ours, [...HAND_WRITTEN, ...EVERY_BMP_START]);
    // Complete config with the same model_max_length: copied as is.
    expect(bytes(join(out, 'tokenizer_config.json'))).toEqual(bytes(join(source, 'tokenizer_config.json')));
  });

  it('cased with strip_accents true, no CJK padding, <s>/</s> as cls/sep and </s> past the vocabulary', async () => {
    const source = writeFolder(CASED_STRIP);
    const out = tempDir();
    const written = await saveTokenizerFolder(source, out, { modelMaxLength: 1024 });
    expect(written.map((f) => f.slice(out.length + 1))).toEqual([
      'vocab.txt',
      'special_tokens_map.json',
      'tokenizer_config.json',
      'added_tokens.json',
      'tokenizer.json',
    ]);
    expect(readdirSync(out).sort()).toEqual(['added_tokens.json', ...TOKENIZER_FILES]);
    for (const name of ['vocab.txt', 'special_tokens_map.json', 'added_tokens.json']) expect(bytes(join(out, name))).toEqual(bytes(join(source, name)));
    // Key order kept, the two missing keys appended, Python's indent=2 layout.
    expect(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).toBe(
      '{\n  "do_lower_case": false,\n  "strip_accents": true,\n  "tokenize_chinese_chars": false,\n  "model_max_length": 1024,\n  "tokenizer_class": "BertTokenizer"\n}\n',
    );

    const endId = 7 + BASE_VOCAB.length;
    const json = JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    expect(json.normalizer).toEqual({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: true, lowercase: false });
    expect(json.added_tokens.map((t: { content: string; id: number }) => [t.content, t.id])).toEqual([
      ['[PAD]', 0],
      ['[UNK]', 1],
      ['<s>', 2],
      ['[MASK]', 3],
      ['</s>', endId],
    ]);
    expect(json.model.vocab['</s>']).toBeUndefined();
    // Sorted keys, as the Rust serializer writes them: "</s>" < "<s>".
    expect(Object.keys(json.post_processor.special_tokens)).toEqual(['</s>', '<s>']);
    expect(json.post_processor.pair).toEqual([
      { SpecialToken: { id: '<s>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '</s>', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '</s>', type_id: 1 } },
    ]);

    const ours = await loadTokenizer(source);
    const hf = tokenizers.Tokenizer.fromFile(join(out, 'tokenizer.json'));
    expect(hf.getVocabSize()).toBe(ours.vocabSize);
    expect(hf.getVocabSize()).toBe(endId + 1);
    expect(hf.tokenToId('</s>')).toBe(endId);
    expect(hf.tokenToId('<s>')).toBe(2);
    await expectSameEncodings(ours, hf, [...HAND_WRITTEN, ...EVERY_BMP_START], { cls: 2, sep: endId });
    expect(ours.tokenize('Hello café Café 漢字')).toEqual(['Hello', 'cafe', '[UNK]', '漢字']);

    expect(rustResaved(join(out, 'tokenizer.json'))).toBe(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
    await expectSameIds(await loadTokenizer(out), ours, [...HAND_WRITTEN, ...EVERY_BMP_START]);
  });

  it('copies a tokenizer.json the source already has, and writes no temporary files', async () => {
    const first = tempDir();
    await saveTokenizerFolder(writeFolder(UNCASED), first);
    // Make the copied file recognisable: a generated one would be pretty-printed.
    writeFileSync(join(first, 'tokenizer.json'), JSON.stringify(JSON.parse(readFileSync(join(first, 'tokenizer.json'), 'utf8'))));
    const second = tempDir();
    await saveTokenizerFolder(first, second, { modelMaxLength: 512 });
    expect(readdirSync(second).sort()).toEqual(TOKENIZER_FILES);
    for (const name of TOKENIZER_FILES) expect(bytes(join(second, name))).toEqual(bytes(join(first, name)));
  });

  it('overwrites an existing output folder in place', async () => {
    const source = writeFolder(UNCASED);
    const out = writeFolder({ 'tokenizer.json': 'stale', 'vocab.txt': 'stale\n' });
    await saveTokenizerFolder(source, out, { modelMaxLength: 512 });
    expect(bytes(join(out, 'vocab.txt'))).toEqual(bytes(join(source, 'vocab.txt')));
    expect(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')).model.type).toBe('WordPiece');
    expect(readdirSync(out).sort()).toEqual(TOKENIZER_FILES);
  });

  it('names the missing file, and writes nothing', async () => {
    for (const missing of ['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json']) {
      const files: Record<string, string> = { ...UNCASED };
      delete files[missing];
      const source = writeFolder(files);
      const out = tempDir();
      await expect(saveTokenizerFolder(source, out)).rejects.toThrow(`${join(source, missing)}: not found`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('names a file that is not a JSON object', async () => {
    const source = writeFolder({ ...UNCASED, 'special_tokens_map.json': '[1, 2' });
    await expect(saveTokenizerFolder(source, tempDir())).rejects.toThrow(`${join(source, 'special_tokens_map.json')}: invalid JSON`);
  });

  it('refuses an added_tokens.json that kbb would tokenize differently from transformers', async () => {
    const wrongId = writeFolder({ ...CASED_STRIP, 'added_tokens.json': JSON.stringify({ '</s>': 9999 }) });
    await expect(saveTokenizerFolder(wrongId, tempDir())).rejects.toThrow(
      `${join(wrongId, 'added_tokens.json')}: "</s>" has id 9999, but kbb gives it id ${7 + BASE_VOCAB.length}`,
    );
    const notSpecial = writeFolder({ ...CASED_STRIP, 'added_tokens.json': JSON.stringify({ '</s>': 7 + BASE_VOCAB.length, extra: 8 + BASE_VOCAB.length }) });
    await expect(saveTokenizerFolder(notSpecial, tempDir())).rejects.toThrow(
      `${join(notSpecial, 'added_tokens.json')}: "extra" has id ${8 + BASE_VOCAB.length}, but kbb gives it no added-token id`,
    );
  });

  it('rejects a model_max_length that is not a positive integer', async () => {
    await expect(saveTokenizerFolder(writeFolder(UNCASED), tempDir(), { modelMaxLength: 0 })).rejects.toThrow(/modelMaxLength must be a positive integer/);
    await expect(saveTokenizerFolder(writeFolder(UNCASED), tempDir(), { modelMaxLength: 1.5 })).rejects.toThrow(/modelMaxLength must be a positive integer/);
  });

  it('bertTokenizerJson: strip_accents must agree with the tokenizer, cls/sep must exist', async () => {
    const ours = await loadTokenizer(writeFolder(UNCASED));
    expect(bertTokenizerJson(ours).normalizer.strip_accents).toBe(true);
    expect(bertTokenizerJson(ours, { stripAccents: null }).normalizer.strip_accents).toBe(null);
    expect(() => bertTokenizerJson(ours, { stripAccents: false })).toThrow(/disagrees with the tokenizer/);
    expect(() => bertTokenizerJson(ours, { clsToken: '<cls>' })).toThrow(/the cls token "<cls>" is neither in the vocabulary nor an added token/);
    const text = formatTokenizerJson(bertTokenizerJson(ours, { stripAccents: null }));
    expect(
      text.startsWith(
        '{\n  "version": "1.0",\n  "truncation": null,\n  "padding": null,\n  "added_tokens": [\n    {\n      "id": 0,\n      "content": "[PAD]",',
      ),
    ).toBe(true);
    expect(text.endsWith('\n    }\n  }\n}')).toBe(true);
  });
});

describe('tokenizerConfigText (tokenizer_config.json rewritten with keys set)', () => {
  it('keeps key order, index-like keys and every literal as written', () => {
    const source =
      '{"added_tokens_decoder": {"0": {"content": "[PAD]", "special": true}, "100": {}, "2": {"x": []}}, "model_max_length": 1000000000000000019884624838656, "ratio": 1.0, "name": "\\u00e9\\n", "list": [1, [2, {}], []], "tokenizer_class": "BertTokenizer"}';
    expect(tokenizerConfigText(source, { model_max_length: 4096 }, 'x.json')).toBe(
      [
        '{',
        '  "added_tokens_decoder": {',
        '    "0": {',
        '      "content": "[PAD]",',
        '      "special": true',
        '    },',
        '    "100": {},',
        '    "2": {',
        '      "x": []',
        '    }',
        '  },',
        '  "model_max_length": 4096,',
        '  "ratio": 1.0,',
        '  "name": "\\u00e9\\n",',
        '  "list": [',
        '    1,',
        '    [',
        '      2,',
        '      {}',
        '    ],',
        '    []',
        '  ],',
        '  "tokenizer_class": "BertTokenizer"',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('appends a new key, sets every copy of a repeated one, and names a bad file', () => {
    expect(tokenizerConfigText('{}', { model_max_length: 8 }, 'x.json')).toBe('{\n  "model_max_length": 8\n}\n');
    expect(tokenizerConfigText('{"a": 1, "a": 2}', { a: 3 }, 'x.json')).toBe('{\n  "a": 3,\n  "a": 3\n}\n');
    expect(tokenizerConfigText('{"a": "}, \\"b\\": ["}', { b: true }, 'x.json')).toBe('{\n  "a": "}, \\"b\\": [",\n  "b": true\n}\n');
    expect(() => tokenizerConfigText('{"a": ', { a: 1 }, 'dir/tokenizer_config.json')).toThrow(/^dir\/tokenizer_config\.json: invalid JSON/);
    expect(() => tokenizerConfigText('[]', { a: 1 }, 'dir/tokenizer_config.json')).toThrow('dir/tokenizer_config.json: expected a JSON object');
  });
});

describe.skipIf(!hasFixtures)(`tokenizer.json for the KoBigBird tokenizer folder${hasFixtures ? '' : ` (${SKIP_NO_FIXTURES})`}`, () => {
  let saved: Promise<string> | undefined;
  /** The fixture folder saved once, on first use inside a test. */
  const kobigbirdOut = (): Promise<string> => {
    saved ??= (async () => {
      const out = tempDir();
      await saveTokenizerFolder(KOBIGBIRD, out, { modelMaxLength: 4096 });
      return out;
    })();
    return saved;
  };

  it('copies vocab.txt, special_tokens_map.json and tokenizer_config.json (model_max_length already 4096) byte for byte', async () => {
    const out = await kobigbirdOut();
    expect(readdirSync(out).sort()).toEqual(TOKENIZER_FILES);
    for (const name of ['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json']) expect(bytes(join(out, name))).toEqual(bytes(join(KOBIGBIRD, name)));
    const noLength = tempDir();
    await saveTokenizerFolder(KOBIGBIRD, noLength);
    expect(bytes(join(noLength, 'tokenizer_config.json'))).toEqual(bytes(join(KOBIGBIRD, 'tokenizer_config.json')));
    expect(bytes(join(noLength, 'tokenizer.json'))).toEqual(bytes(join(out, 'tokenizer.json')));
  });

  it('rewrites tokenizer_config.json when model_max_length differs, changing only that value', async () => {
    const out = tempDir();
    await saveTokenizerFolder(KOBIGBIRD, out, { modelMaxLength: 2048 });
    const source = readFileSync(join(KOBIGBIRD, 'tokenizer_config.json'), 'utf8');
    expect(source).toContain('"model_max_length": 4096,');
    expect(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).toBe(source.replace('"model_max_length": 4096,', '"model_max_length": 2048,'));
    expect(bytes(join(out, 'vocab.txt'))).toEqual(bytes(join(KOBIGBIRD, 'vocab.txt')));
  });

  it('has the fields BertConverter gives a cased tokenizer (strip_accents null as in the config), and the Rust library re-saves it unchanged', async () => {
    const out = await kobigbirdOut();
    const text = readFileSync(join(out, 'tokenizer.json'), 'utf8');
    const json = JSON.parse(text);
    expect(json.version).toBe('1.0');
    expect(json.truncation).toBeNull();
    expect(json.padding).toBeNull();
    expect(json.added_tokens).toEqual(
      KOBIGBIRD_SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    );
    expect(json.normalizer).toEqual({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false });
    expect(json.pre_tokenizer).toEqual({ type: 'BertPreTokenizer' });
    expect(json.post_processor).toEqual({
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    });
    expect(json.decoder).toEqual({ type: 'WordPiece', prefix: '##', cleanup: true });
    expect(Object.keys(json.model)).toEqual(['type', 'unk_token', 'continuing_subword_prefix', 'max_input_chars_per_word', 'vocab']);
    expect([json.model.type, json.model.unk_token, json.model.continuing_subword_prefix, json.model.max_input_chars_per_word]).toEqual([
      'WordPiece',
      '[UNK]',
      '##',
      100,
    ]);
    // vocab.txt line k is id k, and the file lists them in that order (JSON.parse would reorder "0", "10", …).
    const vocabLines = lines(join(KOBIGBIRD, 'vocab.txt')).slice(0, -1);
    expect(vocabLines.length).toBe(32500);
    expect(Object.entries(json.model.vocab).length).toBe(32500);
    for (const [id, token] of vocabLines.entries()) expect(json.model.vocab[token]).toBe(id);
    const idsInTextOrder = [...text.split('"vocab": {')[1].matchAll(/^ {6}"(?:[^"\\]|\\.)*": (\d+),?$/gm)].map((m) => Number(m[1]));
    expect(idsInTextOrder).toEqual(vocabLines.map((_, id) => id));
    expect(rustResaved(join(out, 'tokenizer.json'))).toBe(text);
  });

  it('the Rust tokenizer loaded from it encodes the Korean corpus and hand-written texts like kbb, plain, single and pair', async () => {
    const out = await kobigbirdOut();
    const ours = await loadTokenizer(KOBIGBIRD);
    const hf = tokenizers.Tokenizer.fromFile(join(out, 'tokenizer.json'));
    expect(hf.getVocabSize()).toBe(32500);
    expect(hf.getVocabSize()).toBe(ours.vocabSize);
    KOBIGBIRD_SPECIALS.forEach((token, id) => {
      expect(hf.tokenToId(token)).toBe(id);
      expect(hf.idToToken(id)).toBe(token);
    });
    const corpus = lines(fixture('korean-corpus', 'nsmc_sample.txt'));
    expect(corpus.length).toBe(4746);
    await expectSameEncodings(ours, hf, [...corpus, ...HAND_WRITTEN, '안녕하세요 [MASK]abc 漢字 테스트입니다.', '<s>문장</s> 가[SEP]나'], { cls: 2, sep: 3 });
  });

  it('loadTokenizer on the saved folder (which reads tokenizer.json) gives the ids of the source folder', async () => {
    const out = await kobigbirdOut();
    const fromSource = await loadTokenizer(KOBIGBIRD);
    const fromOutput = await loadTokenizer(out);
    expect(fromOutput.options).toEqual(fromSource.options);
    expect(Object.fromEntries(fromOutput.addedTokens)).toEqual(Object.fromEntries(fromSource.addedTokens));
    expect(fromOutput.vocabSize).toBe(fromSource.vocabSize);
    await expectSameIds(fromOutput, fromSource, [
      ...lines(fixture('korean-corpus', 'nsmc_sample.txt')),
      ...lines(fixture('ko-lm-dataformat', 'upstream-test-assets', 'blns.txt')),
      ...HAND_WRITTEN,
    ]);
  });

  it('a source folder with a tokenizer.json (as the hub ships KoBigBird) has it copied, not regenerated', async () => {
    const source = tempDir();
    mkdirSync(source, { recursive: true });
    for (const name of ['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json']) copyFileSync(join(KOBIGBIRD, name), join(source, name));
    writeFileSync(join(source, 'tokenizer.json'), readFileSync(join(await kobigbirdOut(), 'tokenizer.json'), 'utf8').replace(/\n\s*/g, ''));
    const out = tempDir();
    await saveTokenizerFolder(source, out, { modelMaxLength: 4096 });
    for (const name of TOKENIZER_FILES) expect(bytes(join(out, name))).toEqual(bytes(join(source, name)));
  });
});
