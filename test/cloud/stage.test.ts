import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoint } from '../../lib/checkpoint/index.js';
import { crc32c } from '../../lib/checksum/index.js';
import { type StageProgress, stage, stagedPaths, verifyStaged } from '../../lib/cloud/index.js';
import { fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

const root = mkdtempSync(join(tmpdir(), 'kbb-stage-'));
const dataDir = join(root, 'build');
const checkpointDir = join(root, 'bert');
const initCheckpoint = join(checkpointDir, 'bert_model.ckpt');
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');

const bytes = (n: number, seed: number): Buffer => {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

beforeAll(async () => {
  // A build folder: shards of a few MB (several chunks each), the manifest, and a temporary file an
  // interrupted build left, which is not staged.
  mkdirSync(dataDir);
  for (let i = 0; i < 5; i++) writeFileSync(join(dataDir, `pretrain_data.tfrecord-${i}-of-5`), bytes(1_500_000 + i * 333_333, i + 1));
  writeFileSync(join(dataDir, 'build_manifest.json'), '{"shards": 5}\n');
  writeFileSync(join(dataDir, '.pretrain_data.tfrecord-9-of-10.tmp-123'), 'litter');
  // A checkpoint with the `checkpoint` file beside it, which is not staged either.
  await writeCheckpoint(initCheckpoint, [
    { name: 'bert/embeddings/word_embeddings', dtype: 'float32', shape: [3000, 8], data: new Uint8Array(bytes(3000 * 8 * 4, 7)) },
    { name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(8) },
  ]);
  writeFileSync(join(checkpointDir, 'checkpoint'), 'model_checkpoint_path: "bert_model.ckpt"\n');
}, 60_000);
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
});

const stores = [
  { name: 'local', destination: () => mkdtempSync(join(root, 'dest-')), skip: false },
  { name: 'gs:// (emulator)', destination: () => `gs://${uniqueBucket('stage')}/runs/kobigbird`, skip: !hasGcsEmulator },
];

const sources = { dataDir, initCheckpoint, tokenizerDir };
const localFiles = (): string[] => [
  ...readdirSync(dataDir)
    .filter((n) => !n.startsWith('.'))
    .map((n) => join(dataDir, n)),
  join(checkpointDir, 'bert_model.ckpt.data-00000-of-00001'),
  join(checkpointDir, 'bert_model.ckpt.index'),
  ...readdirSync(tokenizerDir).map((n) => join(tokenizerDir, n)),
];

describe.each(stores)('kbb stage to $name', ({ destination: destinationOf, skip }) => {
  it.skipIf(skip)('uploads everything, skips it all on a re-run, and re-uploads exactly a deleted and a corrupted object', async () => {
    const destination = destinationOf();
    const reports: StageProgress[] = [];
    const first = await stage({ destination, ...sources, concurrency: 3, onProgress: (p) => reports.push(p) });

    // The layout, and every object byte for byte its local file.
    const paths = stagedPaths(destination, sources);
    expect(first.paths).toEqual(paths);
    expect(paths).toEqual({
      dataDir: joinPath(destination, 'pretrain_tfrecords'),
      initCheckpoint: joinPath(destination, 'init_checkpoint', 'bert_model.ckpt'),
      tokenizerDir: joinPath(destination, 'tokenizer'),
    });
    const targets = first.files.map((f) => f.target);
    expect(first.files.map((f) => f.source).sort()).toEqual(localFiles().sort());
    expect(targets.filter((t) => t.startsWith(`${paths.initCheckpoint!}.`)).sort()).toEqual([
      `${paths.initCheckpoint}.data-00000-of-00001`,
      `${paths.initCheckpoint}.index`,
    ]);
    const fs = fileSystemFor(destination);
    for (const file of first.files) {
      const stored = await fs.readFile(file.target);
      expect(Buffer.compare(stored, readFileSync(file.source)), file.target).toBe(0);
      expect(file.crc32c).toBe(crc32c(stored));
      expect(file.action).toBe('uploaded');
    }
    const total = first.files.reduce((sum, f) => sum + f.size, 0);
    expect(first.uploadedBytes).toBe(total);
    expect(first.mismatches).toEqual([]);
    // Progress: the upload phase ends at all bytes and files; nothing was there to check.
    const uploads = reports.filter((r) => r.phase === 'uploading');
    expect(uploads.at(-1)).toEqual({ phase: 'uploading', bytes: total, totalBytes: total, files: first.files.length, totalFiles: first.files.length });
    expect(uploads.map((r) => r.bytes)).toEqual([...uploads.map((r) => r.bytes)].sort((a, b) => a - b));
    expect(reports.some((r) => r.phase === 'checking')).toBe(false);
    expect(reports.filter((r) => r.phase === 'verifying').at(-1)).toMatchObject({ bytes: total, files: first.files.length });

    // Again: everything is there with the same CRC-32C, so nothing is sent.
    const again = await stage({ destination, ...sources });
    expect(again.files.map((f) => f.action)).toEqual(first.files.map(() => 'skipped'));
    expect(again.uploadedBytes).toBe(0);
    expect(again.mismatches).toEqual([]);

    // One object gone, another with different bytes of the same size (only the CRC tells): those two go again.
    const deleted = first.files.find((f) => f.target.endsWith('pretrain_data.tfrecord-2-of-5'))!;
    const corrupted = first.files.find((f) => f.target.endsWith('bert_model.ckpt.index'))!;
    await fs.remove(deleted.target);
    const original = await fs.readFile(corrupted.target);
    const changed = Buffer.from(original);
    changed[10] ^= 0xff;
    await fs.writeFile(corrupted.target, changed);
    const repaired = await stage({ destination, ...sources });
    expect(repaired.files.filter((f) => f.action === 'uploaded').map((f) => f.target)).toEqual([deleted.target, corrupted.target]);
    expect(repaired.uploadedBytes).toBe(deleted.size + corrupted.size);
    expect(Buffer.compare(await fs.readFile(corrupted.target), original)).toBe(0);
    expect(Buffer.compare(await fs.readFile(deleted.target), readFileSync(deleted.source))).toBe(0);
  });

  it.skipIf(skip)('verification names every object that differs from its file, with both values', async () => {
    const destination = destinationOf();
    const { files } = await stage({ destination, tokenizerDir });
    expect(await verifyStaged(files)).toEqual([]);
    const fs = fileSystemFor(destination);
    const [a, b, c] = files;
    const flipped = Buffer.from(await fs.readFile(a.target));
    flipped[0] ^= 1;
    await fs.writeFile(a.target, flipped);
    await fs.writeFile(b.target, 'short');
    await fs.remove(c.target);
    const hex = (n: number): string => n.toString(16).padStart(8, '0');
    expect(await verifyStaged(files)).toEqual([
      `${a.target}: CRC-32C ${hex(crc32c(flipped))}, local ${a.source} has ${hex(a.crc32c)}`,
      `${b.target}: 5 bytes, local ${b.source} has ${b.size}`,
      `${c.target}: missing (local ${c.source} has ${c.size} bytes)`,
    ]);
  });
});

describe('kbb stage refuses what it cannot stage, in one line naming it', () => {
  const destination = (): string => mkdtempSync(join(root, 'refused-'));
  it('a missing folder, a folder without shards, a checkpoint prefix without an index', async () => {
    await expect(stage({ destination: destination(), dataDir: join(root, 'nope') })).rejects.toThrow(
      `${join(root, 'nope')}: no such folder (the build folder to stage)`,
    );
    await expect(stage({ destination: destination(), dataDir: tokenizerDir })).rejects.toThrow(`${tokenizerDir}: no pretrain_data.tfrecord* files`);
    await expect(stage({ destination: destination(), initCheckpoint: join(checkpointDir, 'model.ckpt-7') })).rejects.toThrow(
      join(checkpointDir, 'model.ckpt-7.index'),
    );
    await expect(stage({ destination: destination() })).rejects.toThrow('nothing to stage');
  });

  it('uploads nothing when an input is bad: a truncated checkpoint data file, a tokenizer folder that does not load', async () => {
    const brokenDir = join(root, 'broken');
    mkdirSync(brokenDir);
    const broken = join(brokenDir, 'bert_model.ckpt');
    writeFileSync(`${broken}.index`, readFileSync(`${initCheckpoint}.index`));
    writeFileSync(`${broken}.data-00000-of-00001`, readFileSync(`${initCheckpoint}.data-00000-of-00001`).subarray(0, 1000));
    const badTokenizer = join(root, 'bad-tokenizer');
    mkdirSync(badTokenizer);
    for (const name of readdirSync(tokenizerDir)) writeFileSync(join(badTokenizer, name), readFileSync(join(tokenizerDir, name)));
    writeFileSync(join(badTokenizer, 'tokenizer_config.json'), '{"do_lower_case": "yes"');

    const first = destination();
    await expect(stage({ destination: first, dataDir, initCheckpoint: broken, tokenizerDir })).rejects.toThrow(`${broken}.data-00000-of-00001`);
    expect(readdirSync(first)).toEqual([]);
    const second = destination();
    await expect(stage({ destination: second, dataDir, initCheckpoint, tokenizerDir: badTokenizer })).rejects.toThrow(
      join(badTokenizer, 'tokenizer_config.json'),
    );
    expect(readdirSync(second)).toEqual([]);
  });
});
