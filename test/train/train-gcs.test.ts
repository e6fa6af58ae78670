import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { copyFile, fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { bigBirdModelVariables } from '../../lib/model/index.js';
import { buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../../lib/pretraining/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { readScalarSeries } from '../../lib/tensorboard/index.js';
import { readTrainingRun, type TrainFlags, train } from '../../lib/train/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { useTestBackend } from '../helpers/tf-backend.js';

setUpGcsEmulator();

/**
 * `kbb train` with --data_dir, --output_dir and --init_checkpoint on Cloud Storage (a real emulator):
 * the same checkpoints, config, tokenizer copy, kbb state and results, byte for byte, as the same run
 * on local paths; a resume from a `gs://` output folder; and what `kbb watch` reads of it.
 */

const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');
let dir = '';
/** The local inputs, and the same files in a bucket. */
const local = { data: '', init: '' };
const remote = { root: '', data: '', init: '' };

/** A tiny BigBird on the sample data, as train.test.ts trains it, but fewer steps. */
const tiny = (paths: { data: string; init: string }, outputDir: string, more: Partial<TrainFlags> = {}): Partial<TrainFlags> => ({
  data_dir: paths.data,
  init_checkpoint: paths.init,
  output_dir: outputDir,
  tokenizer_dir: tokenizerDir,
  max_encoder_length: SAMPLE_BUILD_SETTINGS.maxSeqLength,
  max_predictions_per_seq: SAMPLE_BUILD_SETTINGS.maxPredictionsPerSeq,
  max_position_embeddings: 128,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  train_batch_size: 4,
  num_train_steps: 6,
  num_warmup_steps: 2,
  learning_rate: 2e-3,
  save_checkpoints_steps: 3,
  keep_checkpoint_max: 2,
  seed: 5,
  ...more,
});

/** Every file under a folder (either store), relative paths sorted. */
const filesUnder = async (root: string): Promise<string[]> => (await fileSystemFor(root).listRecursive(root)).sort();
const bytesAt = (path: string): Promise<Buffer> => fileSystemFor(path).readFile(path);

/** Copies every file under `from` to `to`, keeping the relative paths. */
async function copyTree(from: string, to: string): Promise<void> {
  for (const name of await filesUnder(from)) await copyFile(joinPath(from, ...name.split('/')), joinPath(to, ...name.split('/')));
}

beforeAll(async () => {
  await useTestBackend();
  if (!hasGcsEmulator) return;
  dir = mkdtempSync(join(tmpdir(), 'kbb-train-gcs-'));
  local.data = join(dir, 'data');
  await buildPretrainingData({ ...SAMPLE_BUILD_SETTINGS, inputDir: join(projectRoot, 'data', 'sample-corpus'), tokenizerDir, outputDir: local.data });

  // A BERT of the tiny model's sizes (BERT's LayerNorm name, a 16-row position table, Adam slots and a step) to warm-start from.
  const base = await train({ flags: tiny({ data: local.data, init: '' }, join(dir, 'sizes'), { do_train: false }) });
  const tensors: TensorToWrite[] = [];
  for (const { name, shape } of bigBirdModelVariables(base.config, 'pretraining')) {
    const renamed = name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm');
    const rows = name === 'bert/embeddings/position_embeddings' ? [16, shape[1]] : shape;
    const values = Float32Array.from({ length: elementCount(rows) }, (_, i) => Math.cos(i * 0.37 + renamed.length));
    for (const slot of ['', '/adam_m', '/adam_v']) tensors.push({ name: renamed + slot, dtype: 'float32', shape: rows, data: new Uint8Array(values.buffer) });
  }
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(new BigInt64Array([1000n]).buffer) });
  local.init = join(dir, 'bert', 'bert_model.ckpt');
  await writeCheckpoint(
    local.init,
    tensors.sort((a, b) => (a.name < b.name ? -1 : 1)),
  );

  remote.root = `gs://${uniqueBucket('train')}/runs`;
  remote.data = `${remote.root}/data`;
  remote.init = `${remote.root}/bert/bert_model.ckpt`;
  await copyTree(local.data, remote.data);
  await copyTree(join(dir, 'bert'), `${remote.root}/bert`);
}, 180_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasGcsEmulator)('kbb train on gs:// (the Storage emulator)', () => {
  it('data, output and init checkpoint in a bucket: the same checkpoints, config, tokenizer, state and results as the local run, byte for byte', async () => {
    const localOut = join(dir, 'local-run');
    const remoteOut = `${remote.root}/output`;
    const extra = { do_eval: true, max_eval_steps: 2 };
    const notes: string[] = [];
    const localRun = await train({ flags: tiny(local, localOut, extra) });
    const remoteRun = await train({ flags: tiny(remote, remoteOut, extra), onNote: (n) => notes.push(n) });
    expect(notes).toContain(`warm start from ${remote.init}: 43 copied, 2 renamed, 1 fresh`);
    expect(remoteRun.checkpoints).toEqual([`${remoteOut}/model.ckpt-0`, `${remoteOut}/model.ckpt-3`, `${remoteOut}/model.ckpt-6`]);
    expect(remoteRun.evalResults).toEqual(localRun.evalResults);

    // Everything but the event files (their names and wall times are the moment's), compared whole.
    const isEvents = (name: string): boolean => name.includes('tfevents');
    const localFiles = (await filesUnder(localOut)).filter((name) => !isEvents(name));
    const remoteFiles = (await filesUnder(remoteOut)).filter((name) => !isEvents(name));
    // keep_checkpoint_max 2: model.ckpt-0 was pruned from the bucket as from the disk.
    expect(remoteFiles).toEqual([
      'checkpoint',
      'eval_results.txt',
      'model.ckpt-3.data-00000-of-00001',
      'model.ckpt-3.index',
      'model.ckpt-3.kbb-train.json',
      'model.ckpt-6.data-00000-of-00001',
      'model.ckpt-6.index',
      'model.ckpt-6.kbb-train.json',
      'pretrain_config.json',
      ...(await filesUnder(tokenizerDir)).map((name) => `tokenizer/${name}`),
    ]);
    expect(remoteFiles).toEqual(localFiles);
    for (const name of remoteFiles) {
      expect((await bytesAt(joinPath(remoteOut, ...name.split('/')))).equals(await bytesAt(join(localOut, name))), name).toBe(true);
    }
    // The `checkpoint` file is written after the checkpoint it names.
    const fs = fileSystemFor(remoteOut);
    const stateWritten = (await fs.stat(`${remoteOut}/checkpoint`))!.modifiedMs;
    for (const name of ['model.ckpt-6.index', 'model.ckpt-6.data-00000-of-00001', 'model.ckpt-6.kbb-train.json']) {
      expect((await fs.stat(`${remoteOut}/${name}`))!.modifiedMs, name).toBeLessThanOrEqual(stateWritten);
    }

    // The scalars the bucket's event file holds are the local run's, step for step (rates aside: they are timings).
    const localSeries = await readScalarSeries(localOut);
    const remoteSeries = await readScalarSeries(remoteOut);
    expect((await filesUnder(remoteOut)).filter(isEvents)).toHaveLength(1);
    for (const tag of ['loss', 'learning_rate', 'masked_lm_accuracy']) {
      const values = (series: typeof localSeries) => series.get(tag)?.map((p) => [p.step, p.value]);
      expect(values(remoteSeries), tag).toEqual(values(localSeries));
      expect(values(remoteSeries), tag).toHaveLength(6);
    }

    // What `kbb watch gs://…` reads of the run in the bucket.
    const { status } = await readTrainingRun(remoteOut);
    expect(status).toMatchObject({
      dir: remoteOut,
      latestStep: 6,
      totalSteps: 6,
      checkpoints: [
        { name: 'model.ckpt-3', step: 3 },
        { name: 'model.ckpt-6', step: 6 },
      ],
    });
    expect(status.series.get('loss')!.map((p) => p.value)).toEqual(localSeries.get('loss')!.map((p) => p.value));
  }, 240_000);

  it('a run stopped and resumed from its gs:// output folder ends bit for bit where an uninterrupted local run does', async () => {
    const straight = join(dir, 'straight');
    await train({ flags: tiny(local, straight) });
    const stopped = `${remote.root}/stopped`;
    const stop = new AbortController();
    const first = await train({ flags: tiny(remote, stopped), signal: stop.signal, onProgress: (p) => p.step === 4 && stop.abort() });
    expect(first).toMatchObject({ stopped: true, finalStep: 4 });
    const notes: string[] = [];
    const second = await train({ flags: tiny(remote, stopped), onNote: (n) => notes.push(n) });
    expect(second).toMatchObject({ stopped: false, startStep: 4, finalStep: 6 });
    expect(notes).toContain(`resuming from ${stopped}/model.ckpt-4 at step 4`);
    expect(await filesUnder(stopped)).toEqual(expect.arrayContaining(['model.ckpt-4.index', 'model.ckpt-6.index']));
    expect(await filesUnder(stopped)).not.toContain('model.ckpt-3.index');
    for (const name of ['model.ckpt-6.index', 'model.ckpt-6.data-00000-of-00001', 'model.ckpt-6.kbb-train.json', 'checkpoint']) {
      const remoteBytes = await bytesAt(`${stopped}/${name}`);
      const localBytes = await bytesAt(join(straight, name));
      if (name === 'checkpoint') {
        // The resumed run keeps model.ckpt-4 where the straight one kept model.ckpt-3.
        expect(remoteBytes.toString()).toBe(
          'model_checkpoint_path: "model.ckpt-6"\nall_model_checkpoint_paths: "model.ckpt-4"\nall_model_checkpoint_paths: "model.ckpt-6"\n',
        );
      } else expect(remoteBytes.equals(localBytes), name).toBe(true);
    }
    // Two event files (one per run), read as one series.
    const series = await readScalarSeries(stopped);
    expect(series.get('loss')!.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(series.get('loss')!.map((p) => p.value)).toEqual((await readScalarSeries(straight)).get('loss')!.map((p) => p.value));
  }, 240_000);

  it('readTrainingRun of a folder copied to a bucket equals that of the local folder; --overwrite clears a gs:// run', async () => {
    const localOut = join(dir, 'local-run');
    const copy = `${remote.root}/copied`;
    await copyTree(localOut, copy);
    const fromDisk = await readTrainingRun(localOut);
    const fromBucket = await readTrainingRun(copy);
    expect({ ...fromBucket.status, dir: '' }).toEqual({ ...fromDisk.status, dir: '' });
    expect([...fromBucket.cursor.offsets.values()]).toEqual([...fromDisk.cursor.offsets.values()]);
    await expect(readTrainingRun(`${remote.root}/nothing-here`)).rejects.toThrow(`${remote.root}/nothing-here: no such folder`);

    // --overwrite on a bucket: an earlier run's files go, a file of the user's stays.
    await fileSystemFor(copy).writeFile(`${copy}/notes.txt`, 'mine');
    const notes: string[] = [];
    const again = await train({ flags: tiny(remote, copy, { num_train_steps: 1, overwrite: true }), onNote: (n) => notes.push(n) });
    expect(again).toMatchObject({ startStep: 0, finalStep: 1 });
    expect(notes.some((n) => n.startsWith('--overwrite: removed'))).toBe(true);
    const left = await filesUnder(copy);
    expect(left.filter((name) => name.endsWith('.index'))).toEqual(['model.ckpt-0.index', 'model.ckpt-1.index']);
    expect(left).not.toContain('eval_results.txt');
    expect((await bytesAt(`${copy}/notes.txt`)).toString()).toBe('mine');
  }, 120_000);
});
