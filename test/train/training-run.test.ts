import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventFileWriter } from '../../lib/tensorboard/index.js';
import { readTrainingRun } from '../../lib/train/index.js';

/** What `kbb watch` reads of a training folder, once and as it grows (`--follow`). */

const dir = mkdtempSync(join(tmpdir(), 'kbb-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readTrainingRun', () => {
  it('reports checkpoints, the step of num_train_steps, the rate from the summaries’ wall times and the time left; then only what was appended', async () => {
    writeFileSync(join(dir, 'pretrain_config.json'), JSON.stringify({ num_train_steps: 10 }));
    writeFileSync(
      join(dir, 'checkpoint'),
      'model_checkpoint_path: "model.ckpt-2"\nall_model_checkpoint_paths: "model.ckpt-0"\nall_model_checkpoint_paths: "model.ckpt-2"\n',
    );
    const events = await EventFileWriter.open(dir, { time: 100, hostname: 'test' });
    // Two steps a second.
    for (const step of [1, 2, 3]) events.scalars(step, { loss: 8 - step / 10, learning_rate: step * 1e-4 }, 100 + step / 2);
    await events.flush();
    const first = await readTrainingRun(dir);
    expect(first.status).toMatchObject({
      latestStep: 3,
      totalSteps: 10,
      checkpoints: [
        { name: 'model.ckpt-0', step: 0 },
        { name: 'model.ckpt-2', step: 2 },
      ],
    });
    expect(first.status.stepsPerSecond).toBeCloseTo(2, 9);
    expect(first.status.secondsLeft).toBeCloseTo(3.5, 9);
    expect(first.status.series.get('loss')!.map((p) => p.step)).toEqual([1, 2, 3]);

    for (const step of [4, 5]) events.scalars(step, { loss: 8 - step / 10, learning_rate: step * 1e-4 }, 100 + step / 2);
    await events.flush();
    const offsets = [...first.cursor.offsets.values()];
    const second = await readTrainingRun(dir, first.cursor);
    expect(second.status.latestStep).toBe(5);
    expect(second.status.series.get('loss')!.map((p) => [p.step, p.value])).toEqual([1, 2, 3, 4, 5].map((s) => [s, Math.fround(8 - s / 10)]));
    expect([...second.cursor.offsets.values()][0]).toBeGreaterThan(offsets[0]);
    // Nothing new: the same status, nothing read twice.
    const third = await readTrainingRun(dir, second.cursor);
    expect(third.status.series.get('loss')).toHaveLength(5);
    await events.close();
  });

  it('a folder that is not there is an error naming it', async () => {
    await expect(readTrainingRun(join(dir, 'nope'))).rejects.toThrow(`${join(dir, 'nope')}: no such folder`);
  });
});
