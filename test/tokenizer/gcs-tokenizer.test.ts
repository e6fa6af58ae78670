import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSystemFor, joinPath, readFileAt, relativePath, writeFileAt } from '../../lib/fs/index.js';
import { sampleCorpusDir, sampleTokenizerDir } from '../../lib/package/index.js';
import { loadSpecialTokens, loadTokenizer, saveTokenizerFolder, TokenizerLoadError, type WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { uploadFolder } from '../corpus/support.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

/*
 * A tokenizer folder in a bucket loads into the same tokenizer as on disk, tokenizes identically,
 * and saveTokenizerFolder writes the same bytes to a bucket as to a folder.
 */

const localRoot = mkdtempSync(join(tmpdir(), 'kbb-gcs-tokenizer-'));
afterAll(async () => {
  rmSync(localRoot, { recursive: true, force: true });
});

/** The sample corpus's lines, the Korean corpus's first reviews when the fixtures are there, and the cases the fast path branches on. */
function texts(): string[] {
  const lines = readdirSync(sampleCorpusDir)
    .filter((name) => name.endsWith('.txt'))
    .flatMap((name) => readFileSync(join(sampleCorpusDir, name), 'utf8').split('\n'));
  const korean = hasFixtures ? readFileSync(fixture('korean-corpus', 'nsmc_sample.txt'), 'utf8').split('\n').slice(0, 3000) : [];
  return [...lines, ...korean, '[MASK] 토큰과 [CLS]가 섞인 문장', `제어\u0000문자\u00ad와 한자 漢字, 😀 그리고 ${'가'.repeat(120)}`, 'Crème BRÛLÉE xyzzy∮'];
}

/** Both tokenizers are the same object graph and tokenize alike. */
function expectSameTokenizer(ours: WordPieceTokenizer, reference: WordPieceTokenizer): void {
  // Serialized as postMessage would carry it: the vocabulary, added tokens, options and tries, in order (a deep toEqual takes seconds).
  expect(Buffer.compare(serialize(ours.state()), serialize(reference.state()))).toBe(0);
  expect(ours.vocabSize).toBe(reference.vocabSize);
  expectSameTokens(ours, reference);
}

/** The same ids, tokens, words and offsets for every text. */
function expectSameTokens(ours: WordPieceTokenizer, reference: WordPieceTokenizer): void {
  const all = texts();
  expect(all.length).toBeGreaterThan(300);
  const batch = ours.encodeBatch(all);
  const referenceBatch = reference.encodeBatch(all);
  expect(Buffer.compare(Buffer.from(batch.ids.buffer, 0, batch.ids.byteLength), Buffer.from(referenceBatch.ids.buffer, 0, referenceBatch.ids.byteLength))).toBe(
    0,
  );
  expect(Array.from(batch.offsets)).toEqual(Array.from(referenceBatch.offsets));
  expect(all.slice(0, 400).map((t) => ours.analyze(t))).toEqual(all.slice(0, 400).map((t) => reference.analyze(t)));
}

/** The files of a folder, wherever it is, by name. */
async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const name of (await fileSystemFor(dir).listRecursive(dir)).sort()) out[name] = await readFileAt(joinPath(dir, name));
  return out;
}

const folders = [
  { name: 'the sample tokenizer (lib/package)', dir: () => sampleTokenizerDir, skip: !hasGcsEmulator },
  { name: 'the KoBigBird tokenizer (fixture)', dir: () => fixture('kobigbird-tokenizer'), skip: !hasGcsEmulator || !hasFixtures },
];

describe.each(folders)('a tokenizer folder in gs:// (emulator): $name', ({ dir: dirOf, skip }) => {
  it.skipIf(skip)('loads into the same tokenizer and tokenizes identically; the same special tokens', async () => {
    const local = dirOf();
    const remote = `gs://${uniqueBucket('tokenizer')}/models/tokenizer`;
    await uploadFolder(local, remote);
    const reference = await loadTokenizer(local);
    expectSameTokenizer(await loadTokenizer(remote), reference);
    expectSameTokenizer(await loadTokenizer(`${remote}/`), reference);
    expect(await loadSpecialTokens(remote)).toEqual(await loadSpecialTokens(local));
    expect(Object.keys(await loadSpecialTokens(remote))).toContain('mask_token');
  });

  it.skipIf(skip)('saveTokenizerFolder writes the same bytes into a bucket as to disk, from either, and they load back the same', async () => {
    const local = dirOf();
    const bucket = `gs://${uniqueBucket('saved-tokenizer')}`;
    const remoteSource = `${bucket}/source`;
    await uploadFolder(local, remoteSource);
    const options = { modelMaxLength: 4096 };
    const localOut = mkdtempSync(join(localRoot, 'out-'));
    const written = await saveTokenizerFolder(local, localOut, options);
    const expected = await filesOf(localOut);
    expect(Object.keys(expected)).toEqual(['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);

    for (const [source, target] of [
      [local, `${bucket}/from-disk`],
      [remoteSource, `${bucket}/from-bucket`],
      [remoteSource, mkdtempSync(join(localRoot, 'from-bucket-'))],
    ]) {
      const paths = await saveTokenizerFolder(source, target, options);
      expect(paths).toEqual(written.map((p) => joinPath(target, relativePath(localOut, p))));
      const got = await filesOf(target);
      expect(Object.keys(got), `${source} → ${target}`).toEqual(Object.keys(expected));
      for (const name of Object.keys(expected)) expect(Buffer.compare(got[name], expected[name]), `${target}: ${name}`).toBe(0);
    }
    // The written folder has a tokenizer.json: loading it takes the other path, from the bucket as from disk.
    expectSameTokenizer(await loadTokenizer(`${bucket}/from-bucket`), await loadTokenizer(localOut));
    // …and tokenizes as the source folder's vocab.txt did (the added tokens come in another order from tokenizer.json).
    expectSameTokens(await loadTokenizer(`${bucket}/from-bucket`), await loadTokenizer(local));
  });
});

describe.skipIf(!hasGcsEmulator)('a missing or broken gs:// tokenizer is one line naming the path', () => {
  const failure = async (promise: Promise<unknown>): Promise<Error> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenizerLoadError);
    expect((error as Error).message).not.toContain('\n');
    return error as Error;
  };

  it('no folder, a folder without a vocabulary, a file instead of a folder, bad JSON', async () => {
    const bucket = `gs://${uniqueBucket('tokenizer-errors')}`;
    expect((await failure(loadTokenizer(`${bucket}/none`))).message).toBe(`${bucket}/none: tokenizer folder not found`);
    await writeFileAt(`${bucket}/half/tokenizer_config.json`, '{"do_lower_case": false}');
    expect((await failure(loadTokenizer(`${bucket}/half`))).message).toBe(`${bucket}/half: no vocab.txt or tokenizer.json in this tokenizer folder`);
    expect((await failure(loadTokenizer(`${bucket}/half/tokenizer_config.json`))).message).toBe(
      `${bucket}/half/tokenizer_config.json: not a folder (expected a tokenizer folder with vocab.txt or tokenizer.json)`,
    );
    await writeFileAt(`${bucket}/bad/vocab.txt`, '[UNK]\n');
    await writeFileAt(`${bucket}/bad/special_tokens_map.json`, '{"unk_token": ');
    expect((await failure(loadTokenizer(`${bucket}/bad`))).message).toMatch(new RegExp(`^${bucket}/bad/special_tokens_map\\.json: invalid JSON \\(`));
    expect((await failure(saveTokenizerFolder(`${bucket}/none`, `${bucket}/out`))).message).toBe(
      `${bucket}/none/vocab.txt: not found: a tokenizer folder needs vocab.txt, tokenizer_config.json and special_tokens_map.json`,
    );
    // Nothing was written for the failed save.
    expect(await fileSystemFor(`${bucket}/out`).listRecursive(`${bucket}/out`)).toEqual([]);
  });
});

it('a missing local tokenizer folder is one line too', async () => {
  const missing = join(localRoot, 'no-such-tokenizer');
  await expect(loadTokenizer(missing)).rejects.toThrow(new TokenizerLoadError(missing, 'tokenizer folder not found'));
});
