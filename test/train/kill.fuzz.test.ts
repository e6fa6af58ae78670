import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestCheckpoint } from '../../lib/checkpoint/index.js';
import { buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../../lib/pretraining/index.js';
import { readScalarSeries } from '../../lib/tensorboard/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import {
  changedSince,
  filesUnder,
  isTemporary,
  KILLS,
  killDelay,
  killMoments,
  killTestTimeout,
  readWhole,
  runKbb,
  runKbbOk,
  snapshotFiles,
} from '../helpers/hard-stop.js';

/** kill -9 during `kbb train`, at seeded moments (a checkpoint every step, so kills land in saves); then the same command again. */

const dir = mkdtempSync(join(tmpdir(), 'kbb-train-kill-'));
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');
const dataDir = join(dir, 'data');
const out = join(dir, 'out');

beforeAll(async () => {
  await buildPretrainingData({ ...SAMPLE_BUILD_SETTINGS, inputDir: join(projectRoot, 'data', 'sample-corpus'), tokenizerDir, outputDir: dataDir });
}, killTestTimeout(30000));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// biome-ignore format: a command line
const command = ['train', '--data_dir', dataDir, '--output_dir', out, '--tokenizer_dir', tokenizerDir, '--max_encoder_length', '128', '--max_predictions_per_seq', '20', '--max_position_embeddings', '128', '--hidden_size', '32', '--num_hidden_layers', '2', '--num_attention_heads', '2', '--intermediate_size', '64', '--train_batch_size', '4', '--num_train_steps', '12', '--num_warmup_steps', '2', '--learning_rate', '0.002', '--save_checkpoints_steps', '1', '--keep_checkpoint_max', '3', '--seed', '3'];

/** Every file under a final name is whole, and the `checkpoint` file names a complete checkpoint with its kbb state. */
async function expectNothingBroken(): Promise<void> {
  if (!existsSync(out)) return;
  if (existsSync(join(out, 'checkpoint'))) {
    const latest = await latestCheckpoint(out);
    await readWhole(latest);
    expect(JSON.parse(readFileSync(`${latest}.kbb-train.json`, 'utf8'))).toHaveProperty('input');
  }
  for (const name of filesUnder(out)) {
    if (isTemporary(name)) continue;
    const path = join(out, name);
    if (name.endsWith('.index')) await readWhole(path.slice(0, -'.index'.length));
    else if (name.endsWith('.json')) JSON.parse(readFileSync(path, 'utf8'));
    else if (name.startsWith('tokenizer/'))
      expect(readFileSync(path).equals(readFileSync(join(tokenizerDir, name.slice('tokenizer/'.length)))), name).toBe(true);
  }
  // Event files grow in place, as TensorFlow's do: a kill may cut the last record, which the reader skips.
  await readScalarSeries(out);
}

/** What a run leaves, but the event files (they hold wall times). */
const runOutput = (): Map<string, Buffer> => snapshotFiles(out, (path) => !path.startsWith('events.out.tfevents.'));

describe('kbb train killed with SIGKILL', () => {
  it(
    `at ${KILLS} seeded moments leaves a usable checkpoint and whole files; the same command then ends with the bytes of an uninterrupted run`,
    async () => {
      const since = Date.now();
      const reference = await runKbbOk(command, { started: () => changedSince(out, since) });
      const expected = runOutput();
      expect([...expected.keys()].filter((name) => name.endsWith('.index'))).toEqual(['model.ckpt-10.index', 'model.ckpt-11.index', 'model.ckpt-12.index']);
      rmSync(out, { recursive: true, force: true });

      let killedMidway = 0;
      for (const moment of killMoments(KILLS, 2)) {
        const spawned = Date.now();
        const run = await runKbb(command, { started: () => changedSince(out, spawned), killAfterMs: killDelay(moment, reference) });
        if (run.signal === 'SIGKILL') killedMidway++;
        else expect(run.status, run.stderr).toBe(0);
        await expectNothingBroken();
      }
      expect(killedMidway, 'no kill landed before training ended').toBeGreaterThan(0);

      const rerun = await runKbb(command);
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(filesUnder(out).filter(isTemporary), 'temporaries of the killed runs').toEqual([]);
      const got = runOutput();
      expect([...got.keys()]).toEqual([...expected.keys()]);
      for (const [name, bytes] of expected) expect(got.get(name)!.equals(bytes), name).toBe(true);
      expect(readdirSync(out).some((name) => name.startsWith('events.out.tfevents.'))).toBe(true);
    },
    killTestTimeout(30000),
  );
});
