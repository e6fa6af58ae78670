import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type TensorToWrite, writeCheckpoint, writeCheckpointState } from '../../lib/checkpoint/index.js';
import { exportToHuggingFace, importFromHuggingFace, openSafetensors } from '../../lib/convert/index.js';
import { copyFile, fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { bigBirdTfVariables, hfConfigFromTf } from '../../lib/model/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { TINY_TF_CONFIG, values, writeTinyTokenizer } from './tiny-checkpoint.js';

setUpGcsEmulator();

const dir = mkdtempSync(join(tmpdir(), 'kbb-hf-gcs-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

/** A KoBigBird TF checkpoint folder as training leaves it (optimizer slots, global_step, config, tokenizer), on disk. */
async function trainedFolder(out: string, step: number): Promise<void> {
  const tensors: TensorToWrite[] = [];
  for (const v of bigBirdTfVariables(hfConfigFromTf(TINY_TF_CONFIG))) {
    tensors.push({ name: v.name, dtype: 'float32', shape: v.shape, data: new Uint8Array(values(v.name, elementCount(v.shape)).buffer) });
    for (const slot of ['AdamWeightDecayOptimizer', 'AdamWeightDecayOptimizer_1'])
      tensors.push({ name: `${v.name}/${slot}`, dtype: 'float32', shape: v.shape, data: new Uint8Array(elementCount(v.shape) * 4) });
  }
  const stepBytes = new Uint8Array(8);
  new DataView(stepBytes.buffer).setBigInt64(0, BigInt(step), true);
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: stepBytes });
  await writeCheckpoint(join(out, `model.ckpt-${step}`), tensors);
  await writeCheckpointState(out, { modelCheckpointPath: `model.ckpt-${step}`, allModelCheckpointPaths: [`model.ckpt-${step}`] });
  writeFileSync(join(out, 'pretrain_config.json'), JSON.stringify(TINY_TF_CONFIG, null, 4));
  writeTinyTokenizer(join(out, 'tokenizer'));
}

/** Every file under a local folder, as paths relative to it with `/`. */
const localFiles = (root: string): string[] =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();

/** Uploads a local folder under a gs:// prefix, file by file. */
async function upload(local: string, remote: string): Promise<void> {
  for (const file of localFiles(local)) await copyFile(join(local, file), joinPath(remote, file));
}

/** The folders (local or gs://) hold the same files, byte for byte, and at least `atLeast` of them. */
async function expectSameFiles(expected: string, actual: string, atLeast: number): Promise<void> {
  const names = localFiles(expected);
  expect(names.length).toBeGreaterThanOrEqual(atLeast);
  expect((await fileSystemFor(actual).listRecursive(actual)).sort()).toEqual(names);
  for (const name of names) {
    const path = joinPath(actual, name);
    expect((await fileSystemFor(path).readFile(path)).equals(readFileSync(join(expected, name))), name).toBe(true);
  }
}

describe.skipIf(!hasGcsEmulator)('kbb export and import-hf with gs:// paths (Storage emulator)', () => {
  it('export --checkpoint_dir gs://… gives the files export from the same folder on disk gives, byte for byte, to a local folder and to gs://', async () => {
    const local = join(dir, 'trained');
    await trainedFolder(local, 3000);
    const remote = `gs://${uniqueBucket('export')}/trained`;
    await upload(local, remote);

    const fromDisk = await exportToHuggingFace({ checkpointDir: local, outputDir: join(dir, 'hf-from-disk'), pytorchBin: true });
    const fromBucket = await exportToHuggingFace({ checkpointDir: remote, outputDir: join(dir, 'hf-from-bucket'), pytorchBin: true });
    expect(fromBucket.checkpointPrefix).toBe(`${remote}/model.ckpt-3000`);
    expect(fromBucket.plan).toEqual(fromDisk.plan);
    expect(fromBucket.notes).toEqual([]);
    // model.safetensors, pytorch_model.bin, config.json and the four tokenizer files.
    await expectSameFiles(join(dir, 'hf-from-disk'), join(dir, 'hf-from-bucket'), 7);

    const bucketToBucket = await exportToHuggingFace({ checkpointDir: remote, outputDir: `${remote}-hf`, stepOnOutput: true, pytorchBin: true });
    expect(bucketToBucket.outputDir).toBe(`${remote}-hf-3k`);
    expect(bucketToBucket.files.at(-1)).toBe(`${remote}-hf-3k/config.json`);
    await expectSameFiles(join(dir, 'hf-from-disk'), `${remote}-hf-3k`, 7);
    await expect(exportToHuggingFace({ checkpointDir: remote, outputDir: `${remote}-hf-3k` })).rejects.toThrow(
      `${remote}-hf-3k: already holds config.json, model.safetensors, pytorch_model.bin; pass --overwrite`,
    );
    await expect(exportToHuggingFace({ checkpointDir: `${remote}-missing`, outputDir: join(dir, 'never') })).rejects.toThrow(
      `${remote}-missing/checkpoint: cannot read the checkpoint state file`,
    );
  });

  it('import-hf writes to gs:// what it writes to disk, from an HF folder on disk or in the bucket; exported again it gives back the same model.safetensors', async () => {
    const trained = join(dir, 'trained-import');
    await trainedFolder(trained, 600);
    const hf = join(dir, 'hf-source');
    await exportToHuggingFace({ checkpointDir: trained, outputDir: hf });
    const bucket = `gs://${uniqueBucket('import')}`;
    await upload(hf, `${bucket}/hf`);

    const toDisk = await importFromHuggingFace({ hfDir: hf, outputDir: join(dir, 'imported'), step: 600 });
    const toBucket = await importFromHuggingFace({ hfDir: hf, outputDir: `${bucket}/imported`, step: 600 });
    const bucketToBucket = await importFromHuggingFace({ hfDir: `${bucket}/hf`, outputDir: `${bucket}/imported-again`, step: 600 });
    expect(toBucket.checkpointPrefix).toBe(`${bucket}/imported/model.ckpt-600`);
    expect(toBucket.files.at(-1)).toBe(`${bucket}/imported/checkpoint`);
    expect(bucketToBucket.plan.rows.map((r) => ({ ...r, file: '' }))).toEqual(toDisk.plan.rows.map((r) => ({ ...r, file: '' })));
    // model.ckpt-600 (index, data), checkpoint, pretrain_config.json and the tokenizer files.
    await expectSameFiles(join(dir, 'imported'), `${bucket}/imported`, 8);
    await expectSameFiles(join(dir, 'imported'), `${bucket}/imported-again`, 8);
    await expect(importFromHuggingFace({ hfDir: hf, outputDir: `${bucket}/imported`, step: 600 })).rejects.toThrow(
      `${bucket}/imported/model.ckpt-600.index exists; pass --overwrite`,
    );

    const back = await exportToHuggingFace({ checkpointDir: `${bucket}/imported-again`, outputDir: `${bucket}/hf-back` });
    const safetensors = `${back.outputDir}/model.safetensors`;
    expect((await fileSystemFor(safetensors).readFile(safetensors)).equals(readFileSync(join(hf, 'model.safetensors')))).toBe(true);
    const opened = await openSafetensors(safetensors);
    const local = await openSafetensors(join(hf, 'model.safetensors'));
    expect([...opened.tensors]).toEqual([...local.tensors]);
    for (const name of local.tensors.keys()) expect(Buffer.from(await opened.read(name)).equals(Buffer.from(await local.read(name))), name).toBe(true);
    await Promise.all([opened.close(), local.close()]);
  });

  it('a failure halfway through export or import-hf to gs:// removes the objects it wrote, and leaves those that were there', async () => {
    const trained = join(dir, 'trained-halfway');
    await trainedFolder(trained, 700);
    const bucket = `gs://${uniqueBucket('halfway')}`;
    await fileSystemFor(bucket).writeFile(`${bucket}/out/README.md`, '# mine\n');
    const failing = (): (() => void) => {
      let calls = 0;
      return () => {
        if (++calls === 5) throw new Error('interrupted');
      };
    };
    await expect(exportToHuggingFace({ checkpointDir: trained, outputDir: `${bucket}/out`, onProgress: failing() })).rejects.toThrow('interrupted');
    expect(await fileSystemFor(bucket).listRecursive(`${bucket}/out`)).toEqual(['README.md']);
    const hf = join(dir, 'hf-halfway');
    await exportToHuggingFace({ checkpointDir: trained, outputDir: hf });
    await expect(importFromHuggingFace({ hfDir: hf, outputDir: `${bucket}/out`, onProgress: failing() })).rejects.toThrow('interrupted');
    expect(await fileSystemFor(bucket).listRecursive(`${bucket}/out`)).toEqual(['README.md']);
  });
});
