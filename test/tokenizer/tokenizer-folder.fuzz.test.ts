import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../lib/fs/index.js';
import { sampleTokenizerDir } from '../../lib/package/index.js';
import { bertTokenizerJson, formatTokenizerJson, loadSpecialTokens, loadTokenizer, saveTokenizerFolder } from '../../lib/tokenizer/index.js';
import { expectReadOrRefused, fuzzParameters, HOSTILE_NAMES, mutated, mutatedJson } from '../helpers/fuzz.js';

/** A tokenizer.json a test changes at any key path. */
// biome-ignore lint/suspicious/noExplicitAny: the cases below reach into every part of the file.
type EditableJson = Record<string, any>;

/** A small cased BERT vocabulary, so that JSON mutations land on the structure as often as on tokens. */
const SMALL_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...'abcdefgh'.split(''), ...'abcdefgh'.split('').map((c) => `##${c}`), '한', '##국'];

let root = '';
let vocabTxt: Buffer;
let configJson: unknown;
let specialMapJson: unknown;
let tokenizerJson: unknown;
let tokenizerJsonBytes: Buffer;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbb-tokenizer-fuzz-'));
  vocabTxt = Buffer.from(`${SMALL_VOCAB.join('\n')}\n`);
  configJson = JSON.parse(readFileSync(join(sampleTokenizerDir, 'tokenizer_config.json'), 'utf8'));
  specialMapJson = JSON.parse(readFileSync(join(sampleTokenizerDir, 'special_tokens_map.json'), 'utf8'));
  const small = folder('small');
  const tokenizer = await loadTokenizer(small);
  tokenizerJsonBytes = Buffer.from(formatTokenizerJson(bertTokenizerJson(tokenizer, { stripAccents: null })));
  tokenizerJson = JSON.parse(tokenizerJsonBytes.toString('utf8'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A fresh tokenizer folder under the test's root: the small vocabulary and the sample's configs, with `files` replacing any of them. */
function folder(name: string, files: Readonly<Record<string, Uint8Array | string | null>> = {}): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const all: Record<string, Uint8Array | string | null> = {
    'vocab.txt': vocabTxt,
    'tokenizer_config.json': JSON.stringify(configJson),
    'special_tokens_map.json': JSON.stringify(specialMapJson),
    ...files,
  };
  for (const [file, content] of Object.entries(all)) if (content !== null) writeFileSync(join(dir, file), content);
  return dir;
}

/** Loading the folder: a tokenizer that encodes, or an InputError naming a file of the folder. */
async function expectLoadedOrRefused(dir: string, about: unknown): Promise<void> {
  await expectReadOrRefused(
    dir,
    async () => {
      const tokenizer = await loadTokenizer(dir);
      tokenizer.encode('abc 한국 [MASK] hg');
      await loadSpecialTokens(dir);
    },
    about,
  );
}

describe('fuzzed tokenizer folders: loadTokenizer returns a tokenizer or a TokenizerLoadError naming the file', () => {
  it('vocab.txt with byte mutations (invalid UTF-8, empty, duplicates, cut lines)', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(vocabTxt), async (input) => {
        await expectLoadedOrRefused(folder('vocab', { 'vocab.txt': input.bytes }), input.mutations);
      }),
      fuzzParameters(),
    );
  });

  it('tokenizer_config.json with changed values and byte mutations', async () => {
    const bytes = Buffer.from(JSON.stringify(configJson, null, 2));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedJson(configJson).map((v) => JSON.stringify(v)),
          mutated(bytes).map((m) => m.bytes),
        ),
        async (config) => {
          await expectLoadedOrRefused(
            folder('config', { 'tokenizer_config.json': config }),
            typeof config === 'string' ? config : Buffer.from(config).toString('latin1'),
          );
        },
      ),
      fuzzParameters(),
    );
  });

  it('special_tokens_map.json with changed values and byte mutations', async () => {
    const bytes = Buffer.from(JSON.stringify(specialMapJson, null, 2));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedJson(specialMapJson).map((v) => JSON.stringify(v)),
          mutated(bytes).map((m) => m.bytes),
        ),
        async (map) => {
          await expectLoadedOrRefused(
            folder('special', { 'special_tokens_map.json': map }),
            typeof map === 'string' ? map : Buffer.from(map).toString('latin1'),
          );
        },
      ),
      fuzzParameters(),
    );
  });

  it('tokenizer.json with changed values (every key path) and byte mutations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedJson(tokenizerJson).map((v) => JSON.stringify(v)),
          mutated(tokenizerJsonBytes).map((m) => m.bytes),
        ),
        async (json) => {
          await expectLoadedOrRefused(
            folder('tokenizer-json', { 'tokenizer.json': json }),
            typeof json === 'string' ? json : Buffer.from(json).toString('latin1'),
          );
        },
      ),
      fuzzParameters(),
    );
  });

  it('saveTokenizerFolder writes a whole folder or refuses before writing anything', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json'),
        mutated(tokenizerJsonBytes, 2),
        mutated(vocabTxt, 2),
        async (name, json, vocab) => {
          const bytes = name === 'tokenizer.json' ? json.bytes : name === 'vocab.txt' ? vocab.bytes : json.bytes.subarray(0, 200);
          const source = folder('save-source', { [name]: bytes });
          const output = join(root, 'save-output');
          rmSync(output, { recursive: true, force: true });
          const outcome = await expectReadOrRefused(source, () => saveTokenizerFolder(source, output), { name });
          if (outcome === 'refused') expect(existsSync(output) ? readdirSync(output) : []).toEqual([]);
        },
      ),
      fuzzParameters(100),
    );
  });
});

describe('tokenizer folder errors found by fuzzing', () => {
  it('tokenizer.json "vocab": null names the key path instead of a TypeError', async () => {
    const json = structuredClone(tokenizerJson) as { model: { vocab: unknown } };
    json.model.vocab = null;
    const dir = folder('vocab-null', { 'tokenizer.json': JSON.stringify(json) });
    await expect(loadTokenizer(dir)).rejects.toThrow(`${join(dir, 'tokenizer.json')}: model.vocab: expected an object, found null`);
  });

  it('tokenizer.json values of the wrong type name their key paths', async () => {
    const cases: [string, (json: EditableJson) => void, string][] = [
      ['model-missing', (j) => delete j.model, 'model: expected an object, found undefined'],
      ['id-string', (j) => (j.model.vocab.a = 'x'), 'model.vocab.a: expected an integer from 0 to 16777215, found "x"'],
      ['id-huge', (j) => (j.model.vocab['##a'] = 4294967295), 'model.vocab["##a"]: expected an integer from 0 to 16777215, found 4294967295'],
      ['id-negative', (j) => (j.model.vocab.b = -1), 'model.vocab.b: expected an integer from 0 to 16777215, found -1'],
      ['unk-number', (j) => (j.model.unk_token = 5), 'model.unk_token: expected a string, found 5'],
      ['unk-missing', (j) => (j.model.unk_token = '[NOPE]'), 'model.unk_token "[NOPE]" is not in model.vocab'],
      ['lowercase', (j) => (j.normalizer.lowercase = 'yes'), 'normalizer.lowercase: expected true or false, found "yes"'],
      ['added-null', (j) => (j.added_tokens[1] = null), 'added_tokens[1]: expected an object, found null'],
      ['added-id', (j) => (j.added_tokens[0].id = 1.5), 'added_tokens[0].id: expected an integer from 0 to 16777215, found 1.5'],
      ['added-content', (j) => delete j.added_tokens[0].content, 'added_tokens[0].content: expected a string, found undefined'],
      ['pre', (j) => (j.pre_tokenizer = null), 'pre_tokenizer: expected an object, found null'],
      ['chars', (j) => (j.model.max_input_chars_per_word = 1e308), 'model.max_input_chars_per_word: expected an integer'],
    ];
    for (const [name, change, message] of cases) {
      const json = structuredClone(tokenizerJson) as EditableJson;
      change(json);
      const dir = folder(`shape-${name}`, { 'tokenizer.json': JSON.stringify(json) });
      await expect(loadTokenizer(dir), name).rejects.toThrow(`${join(dir, 'tokenizer.json')}: ${message}`);
    }
  });

  it('a vocabulary of 230,000 tokens loads, from vocab.txt and from tokenizer.json (no Math.max(...spread) stack overflow)', async () => {
    const tokens = [...SMALL_VOCAB, ...Array.from({ length: 230_000 }, (_, i) => `t${i}`)];
    const dir = folder('huge-vocab', { 'vocab.txt': `${tokens.join('\n')}\n` });
    const tokenizer = await loadTokenizer(dir);
    expect(tokenizer.vocabSize).toBe(tokens.length + 2); // <s> and </s> are added after the vocabulary
    expect(tokenizer.tokenToId('<s>')).toBe(tokens.length);
    const json = formatTokenizerJson(bertTokenizerJson(tokenizer, { stripAccents: null }));
    const fromJson = await loadTokenizer(folder('huge-vocab-json', { 'tokenizer.json': json }));
    expect(fromJson.vocabSize).toBe(tokenizer.vocabSize);
    expect(Array.from(fromJson.encode('t229999 abc'))).toEqual(Array.from(tokenizer.encode('t229999 abc')));
  });

  it('vocab.txt: invalid UTF-8 is refused with its line and byte, an empty file is refused, a later duplicate wins', async () => {
    const bad = Buffer.concat([Buffer.from('[PAD]\n[UNK]\nab'), Buffer.from([0xff]), Buffer.from('c\n')]);
    const dir = folder('bad-utf8', { 'vocab.txt': bad });
    await expect(loadTokenizer(dir)).rejects.toThrow(`${join(dir, 'vocab.txt')}: invalid UTF-8 at byte 14 (line 3, byte 0xff)`);
    const empty = folder('empty', { 'vocab.txt': '' });
    await expect(loadTokenizer(empty)).rejects.toThrow(`${join(empty, 'vocab.txt')}: the vocabulary is empty`);
    const duplicate = await loadTokenizer(folder('duplicate', { 'vocab.txt': `${SMALL_VOCAB.join('\n')}\na\n` }));
    expect(duplicate.tokenToId('a')).toBe(SMALL_VOCAB.length);
    expect(duplicate.idToToken[SMALL_VOCAB.indexOf('a')]).toBeUndefined();
  });

  it('special tokens and flags of the wrong type name the file and key', async () => {
    const config = (change: Record<string, unknown>) => JSON.stringify({ ...(configJson as object), ...change });
    const dir = folder('bad-flag', { 'tokenizer_config.json': config({ do_lower_case: [] }) });
    await expect(loadTokenizer(dir)).rejects.toThrow(`${join(dir, 'tokenizer_config.json')}: do_lower_case: expected true or false, found []`);
    const map = folder('bad-special', { 'special_tokens_map.json': JSON.stringify({ ...(specialMapJson as object), mask_token: 5 }) });
    await expect(loadSpecialTokens(map)).rejects.toThrow(`${join(map, 'special_tokens_map.json')}: mask_token: expected a string or an object`);
    const extra = folder('bad-additional', { 'tokenizer_config.json': config({ additional_special_tokens: [null] }) });
    await expect(loadTokenizer(extra)).rejects.toThrow(`${join(extra, 'tokenizer_config.json')}: additional_special_tokens[0]: expected a string`);
    const array = folder('array-config', { 'tokenizer_config.json': '[1]' });
    await expect(loadTokenizer(array)).rejects.toThrow(`${join(array, 'tokenizer_config.json')}: expected a JSON object, found an array`);
  });

  it('an empty special token is not an added token (it matched everywhere and encode never ended)', async () => {
    const dir = folder('empty-special', { 'special_tokens_map.json': JSON.stringify({ ...(specialMapJson as object), mask_token: '' }) });
    const tokenizer = await loadTokenizer(dir);
    expect(tokenizer.addedTokens.has('')).toBe(false);
    expect(tokenizer.tokenize('ab [CLS] [MASK]')).toEqual(['a', '##b', '[CLS]', '[UNK]', '[UNK]', '[UNK]']);
    const json = structuredClone(tokenizerJson) as EditableJson;
    json.added_tokens[0].content = '';
    const fromJson = await loadTokenizer(folder('empty-added', { 'tokenizer.json': JSON.stringify(json) }));
    expect(fromJson.addedTokens.has('')).toBe(false);
    expect(fromJson.encode('[CLS] ab').length).toBeGreaterThan(0);
  });

  it('file names in tokenizer_config.json are never followed: the folder is read by its fixed names only', async () => {
    const outside = join(root, 'outside-vocab');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'vocab.txt'), 'not\nthis\n');
    for (const name of [...HOSTILE_NAMES, join(outside, 'vocab.txt'), '../outside-vocab/vocab.txt']) {
      const dir = folder('named-files', {
        'tokenizer_config.json': JSON.stringify({ ...(configJson as object), vocab_file: name, tokenizer_file: name, special_tokens_map_file: name }),
      });
      const tokenizer = await loadTokenizer(dir);
      expect(tokenizer.tokenToId('[UNK]'), name).toBe(1);
      expect(tokenizer.tokenToId('this'), name).toBeUndefined();
    }
  });

  it('every error is an InputError', async () => {
    const dir = folder('vocab-null-2', { 'tokenizer.json': '{"model": {"type": "WordPiece", "vocab": null}}' });
    await expect(loadTokenizer(dir)).rejects.toBeInstanceOf(InputError);
  });
});
