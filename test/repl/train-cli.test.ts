import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../../lib/pretraining/index.js';
import { EventFileWriter } from '../../lib/tensorboard/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { kbbBin } from './kbb-process.js';

setUpGcsEmulator();

/**
 * `kbb train` and `kbb watch` on gs:// paths, through the real command line. The emulator runs in this
 * process, so the CLI is spawned asynchronously (spawnSync would stop the emulator answering it); it
 * finds the emulator through the STORAGE_EMULATOR_HOST it inherits.
 */

let dir = '';
beforeAll(async () => {
  if (!hasGcsEmulator) return;
  dir = mkdtempSync(join(tmpdir(), 'kbb-train-cli-'));
}, 60_000);
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  /** What it printed so far. */
  readonly stdout: () => string;
  readonly done: Promise<{ status: number | null; stdout: string; stderr: string }>;
}

function start(args: readonly string[]): Run {
  const child = spawn(process.execPath, [kbbBin, ...args], { cwd: projectRoot, env: { ...process.env, KBB_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (status) => resolve({ status, stdout, stderr })),
  );
  return { child, stdout: () => stdout, done };
}

const kbb = (...args: string[]) => start(args).done;

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!hasGcsEmulator)('kbb train and kbb watch on gs:// (the Storage emulator)', () => {
  it('train reads its data from a bucket and writes its run there; watch shows the run, and --follow what is appended', async () => {
    const bucket = `gs://${uniqueBucket('cli')}`;
    const localData = join(dir, 'data');
    await buildPretrainingData({ ...SAMPLE_BUILD_SETTINGS, inputDir: 'data/sample-corpus', tokenizerDir: 'data/sample-tokenizer', outputDir: localData });
    const data = `${bucket}/data`;
    for (const name of await fileSystemFor(localData).listRecursive(localData)) await copyFile(join(localData, name), joinPath(data, name));
    const run = `${bucket}/run`;

    const flags =
      `--data_dir=${data} --output_dir=${run} --tokenizer_dir=data/sample-tokenizer --max_encoder_length=128 --max_position_embeddings=128 ` +
      '--num_attention_heads=2 --num_hidden_layers=1 --hidden_size=32 --intermediate_size=64 --train_batch_size=4 --num_train_steps=3 ' +
      '--num_warmup_steps=1 --save_checkpoints_steps=2 --max_predictions_per_seq=20 --seed=42';
    const trained = await kbb('train', ...flags.split(' '));
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/trained +steps 0 → 3 of 3, loss [\d.]+ → [\d.]+/);
    expect(trained.stdout).toContain(`wrote     ${run}/model.ckpt-3`);

    const watched = await kbb('watch', run, '--json');
    expect(watched.status, watched.stderr).toBe(0);
    const status = JSON.parse(watched.stdout);
    expect(status).toMatchObject({ dir: run, latestStep: 3, totalSteps: 3 });
    expect(status.checkpoints.map((c: { name: string }) => c.name)).toEqual(['model.ckpt-0', 'model.ckpt-2', 'model.ckpt-3']);
    expect(status.series.loss.map((p: { step: number }) => p.step)).toEqual([1, 2, 3]);

    // A run that goes on (as a TPU trainer's would): --follow shows each new step, with the rate and the time left.
    const config = JSON.parse((await fileSystemFor(run).readFile(`${run}/pretrain_config.json`)).toString());
    await fileSystemFor(run).writeFile(`${run}/pretrain_config.json`, JSON.stringify({ ...config, num_train_steps: 10 }));
    const follow = start(['watch', run, '--follow', '--interval', '0.2']);
    try {
      await until(() => follow.stdout().includes(`${run}: step 3 of 10 (30.0%)`), 'the first look');
      const events = await EventFileWriter.open(run, { hostname: 'tpu', flushIntervalSeconds: 0 });
      const now = Date.now() / 1000;
      for (const step of [4, 5, 6]) events.scalars(step, { loss: 7 - step / 10 }, now + step);
      await events.flush();
      await until(() => follow.stdout().includes(`${run}: step 6 of 10 (60.0%), `), 'step 6');
      expect(follow.stdout()).toMatch(/: step 6 of 10 \(60\.0%\), [\d.]+ steps\/s, ETA \S+/);
      await events.close();
    } finally {
      follow.child.kill('SIGINT');
    }
    const followed = await follow.done;
    expect(followed.status, followed.stderr).toBe(0);
  }, 180_000);
});
