import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportToHuggingFace, importFromHuggingFace, openHfWeights, openSafetensors, writeSafetensors } from '../../lib/convert/index.js';
import { InputError } from '../../lib/fs/index.js';
import { expectReadOrRefused, fuzzParameters, HOSTILE_NAMES, mutated, mutatedJson } from '../helpers/fuzz.js';
import { writeTinyCheckpoint } from './tiny-checkpoint.js';

/*
 * `model.safetensors.index.json`, the file of a sharded Hugging Face folder that names its shards:
 * fuzzed (its JSON and its bytes), and its path tricks one by one. A shard name comes from whoever
 * made the download, so `import-hf` must never follow one out of `--hf_dir`, by `..`, an absolute
 * path or a symbolic link, and must refuse before it reads or writes anything.
 */

const INDEX = 'model.safetensors.index.json';
const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];

let root = '';
/** The tiny model exported as one model.safetensors, with config.json and tokenizer files. */
let single = '';
/** The same model in two shards and an index. */
let sharded = '';
let index: { metadata: Record<string, unknown>; weight_map: Record<string, string> };

/** A copy of the sharded folder (shards, config, tokenizer) with `indexText` as its index. */
function shardedCopy(name: string, indexText?: string): string {
  const out = join(root, name);
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(sharded)) if (f !== INDEX) copyFileSync(join(sharded, f), join(out, f));
  writeFileSync(join(out, INDEX), indexText ?? JSON.stringify(index, null, 2));
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbb-safetensors-index-'));
  const ckpt = await writeTinyCheckpoint(join(root, 'ckpt'));
  single = join(root, 'single');
  await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: single });
  sharded = join(root, 'sharded');
  mkdirSync(sharded);
  for (const f of readdirSync(single)) if (f !== 'model.safetensors') copyFileSync(join(single, f), join(sharded, f));
  const file = await openSafetensors(join(single, 'model.safetensors'));
  const tensors = await Promise.all(
    [...file.tensors].map(async ([name, info]) => ({ name, dtype: info.dtype, shape: info.shape, data: await file.read(name) })),
  );
  await file.close();
  const half = Math.ceil(tensors.length / 2);
  const parts = [tensors.slice(0, half), tensors.slice(half)];
  index = { metadata: { total_size: tensors.reduce((n, t) => n + t.data.byteLength, 0) }, weight_map: {} };
  for (const [i, part] of parts.entries()) {
    await writeSafetensors(join(sharded, SHARDS[i]), part);
    for (const t of part) index.weight_map[t.name] = SHARDS[i];
  }
  writeFileSync(join(sharded, INDEX), JSON.stringify(index, null, 2));
  // What a shard name might lead to outside the folder: a valid safetensors file, so that following it would "work".
  copyFileSync(join(sharded, SHARDS[0]), join(root, 'outside.safetensors'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('a sharded Hugging Face folder', () => {
  it('imports as a single-file one does', async () => {
    const fromShards = await importFromHuggingFace({ hfDir: sharded, outputDir: join(root, 'sharded-tf') });
    const fromSingle = await importFromHuggingFace({ hfDir: single, outputDir: join(root, 'single-tf') });
    expect(fromShards.plan.rows.map((r) => r.tfName)).toEqual(fromSingle.plan.rows.map((r) => r.tfName));
    expect(readFileSync(`${fromShards.checkpointPrefix}.data-00000-of-00001`).equals(readFileSync(`${fromSingle.checkpointPrefix}.data-00000-of-00001`))).toBe(
      true,
    );
  });
});

describe('fuzzed model.safetensors.index.json', () => {
  let fuzzDir = '';
  beforeAll(() => {
    fuzzDir = shardedCopy('fuzz');
  });

  it('JSON mutations (shard names replaced by nulls, numbers, "..", "../../x", long strings; keys added and deleted): opened or refused naming the folder', async () => {
    const outcomes = { read: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(mutatedJson(index), async (json) => {
        writeFileSync(join(fuzzDir, INDEX), JSON.stringify(json) ?? 'null');
        outcomes[
          await expectReadOrRefused(
            fuzzDir,
            async () => {
              const weights = await openHfWeights(fuzzDir);
              await weights.close();
            },
            json,
          )
        ]++;
      }),
      fuzzParameters(),
    );
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('byte mutations of the index: opened or refused naming the folder', async () => {
    const valid = Buffer.from(JSON.stringify(index, null, 2));
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (input) => {
        writeFileSync(join(fuzzDir, INDEX), input.bytes);
        await expectReadOrRefused(
          fuzzDir,
          async () => {
            const weights = await openHfWeights(fuzzDir);
            await weights.close();
          },
          input.mutations,
        );
      }),
      fuzzParameters(),
    );
  });
});

/** The InputError `importFromHuggingFace` gives for this folder; the output folder must not appear. */
async function refusedImport(hfDir: string, pattern: RegExp): Promise<InputError> {
  const outputDir = join(root, `out-${Math.random().toString(36).slice(2)}`);
  const error = await importFromHuggingFace({ hfDir, outputDir }).then(
    () => expect.fail('expected import-hf to refuse'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as Error).message).toMatch(pattern);
  expect(existsSync(outputDir)).toBe(false);
  return error as InputError;
}

describe('shard names that lead outside --hf_dir are refused before anything is read or written', () => {
  const withShardName = (label: string, shardName: string): string => {
    const tricked = { ...index, weight_map: { ...index.weight_map } };
    const first = Object.keys(tricked.weight_map).find((k) => tricked.weight_map[k] === SHARDS[0])!;
    for (const k of Object.keys(tricked.weight_map)) if (tricked.weight_map[k] === SHARDS[0]) tricked.weight_map[k] = shardName;
    expect(first).toBeDefined();
    return shardedCopy(label, JSON.stringify(tricked));
  };

  it.each(HOSTILE_NAMES.map((name, i) => [name, i] as const))('%j', async (name, i) => {
    const hfDir = withShardName(`hostile-${i}`, name);
    const error = await refusedImport(hfDir, /model\.safetensors\.index\.json: weight_map\[".*"\] .* \(expected a relative file name inside /);
    expect(error.file).toBe(join(hfDir, INDEX));
  });

  it('an absolute path to a real safetensors file outside, and one with ../ that reaches it', async () => {
    await refusedImport(withShardName('absolute', join(root, 'outside.safetensors')), /is an absolute path/);
    await refusedImport(withShardName('dotdot', '../outside.safetensors'), /goes up with "\.\."/);
    await refusedImport(withShardName('sub-dotdot', 'sub/../../outside.safetensors'), /goes up with "\.\."/);
  });

  it('a shard that is a symbolic link inside the folder to a file outside it', async () => {
    const hfDir = withShardName('symlink-shard', 'linked.safetensors');
    symlinkSync(join(root, 'outside.safetensors'), join(hfDir, 'linked.safetensors'));
    await refusedImport(hfDir, /weight_map\[".*"\] "linked\.safetensors" leads to .*outside\.safetensors through a symbolic link, outside the folder/);
  });

  it('a shard reached through a linked sub-folder that leads outside', async () => {
    const hfDir = withShardName('symlink-dir', 'shards/outside.safetensors');
    symlinkSync(root, join(hfDir, 'shards'));
    await refusedImport(hfDir, /leads to .* through a symbolic link, outside the folder/);
  });

  it('model.safetensors itself a link to a file outside', async () => {
    const hfDir = join(root, 'symlink-single');
    mkdirSync(hfDir);
    copyFileSync(join(single, 'config.json'), join(hfDir, 'config.json'));
    symlinkSync(join(single, 'model.safetensors'), join(hfDir, 'model.safetensors'));
    await refusedImport(hfDir, /symlink-single: file "model\.safetensors" leads to .* through a symbolic link, outside the folder/);
  });

  it("a Hugging Face hub cache snapshot, whose files are links into the repository's blobs folder, imports", async () => {
    const repo = join(root, 'hub', 'models--kbb--tiny');
    const snapshot = join(repo, 'snapshots', 'abc123');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    for (const f of readdirSync(sharded)) {
      copyFileSync(join(sharded, f), join(repo, 'blobs', `blob-${f}`));
      symlinkSync(join('..', '..', 'blobs', `blob-${f}`), join(snapshot, f));
    }
    const result = await importFromHuggingFace({ hfDir: snapshot, outputDir: join(root, 'hub-tf') });
    expect(result.plan.rows.length).toBeGreaterThan(0);
  });
});

describe('an index that disagrees with its shards', () => {
  it('names a shard that is not there', async () => {
    const tricked = { ...index, weight_map: { ...index.weight_map, 'bert.pooler.dense.bias': 'model-00003-of-00002.safetensors' } };
    await refusedImport(
      shardedCopy('missing-shard', JSON.stringify(tricked)),
      /weight_map\["bert\.pooler\.dense\.bias"\] names .*model-00003-of-00002\.safetensors, which is not there/,
    );
  });

  it('puts a tensor in the wrong shard, leaves one out, or lists one no shard has', async () => {
    const first = Object.keys(index.weight_map)[0];
    const wrong = { ...index, weight_map: { ...index.weight_map, [first]: index.weight_map[first] === SHARDS[0] ? SHARDS[1] : SHARDS[0] } };
    await refusedImport(shardedCopy('wrong-shard', JSON.stringify(wrong)), new RegExp(`says ${first.replaceAll('.', '\\.')} is in .*, but it is in`));
    const { [first]: _, ...rest } = index.weight_map;
    await refusedImport(shardedCopy('unlisted', JSON.stringify({ ...index, weight_map: rest })), new RegExp(`does not list ${first.replaceAll('.', '\\.')}`));
    const extra = { ...index, weight_map: { ...index.weight_map, 'bert.extra': SHARDS[0] } };
    await refusedImport(shardedCopy('extra', JSON.stringify(extra)), /says bert\.extra is in .*, but that shard has no such tensor/);
  });

  it('is not an object, has no weight_map, an empty one, or one that is a list', async () => {
    for (const [label, text, pattern] of [
      ['not-json', '{"weight_map": ', /not valid JSON/],
      ['list', '[]', /expected a JSON object with a "weight_map"/],
      ['no-map', '{}', /"weight_map" is missing, expected an object/],
      ['empty-map', '{"weight_map": {}}', /"weight_map" is empty/],
      ['list-map', '{"weight_map": ["a"]}', /"weight_map" is \["a"\], expected an object/],
      ['number-shard', '{"weight_map": {"a": 3}}', /weight_map\["a"\] is 3, expected a shard file name/],
    ] as const) {
      await refusedImport(shardedCopy(`index-${label}`, text), pattern);
    }
  });
});
