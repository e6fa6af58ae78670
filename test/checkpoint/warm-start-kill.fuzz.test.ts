import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointReader, latestCheckpoint, warmStart } from '../../lib/checkpoint/index.js';
import { writeBertCheckpoint } from '../helpers/bert-checkpoint.js';
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

/** kill -9 during `kbb warm-start`, at seeded moments; then the same command again. And a warm start that fails mid-way. */

const dir = mkdtempSync(join(tmpdir(), 'kbb-warm-kill-'));
const out = join(dir, 'out');
let command: string[] = [];
let bert = { configFile: '', initCheckpoint: '' };

beforeAll(async () => {
  bert = await writeBertCheckpoint(dir);
  // --overwrite: a kill after the index but before the `checkpoint` file leaves a whole model.ckpt-0, which the same command then replaces.
  command = ['warm-start', '--init_checkpoint', bert.initCheckpoint, '--config', bert.configFile, '--output_dir', out, '--seed', '7', '--overwrite'];
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An index under its final name has all its data; the `checkpoint` file names a whole checkpoint. */
async function expectNothingBroken(): Promise<void> {
  if (!existsSync(out)) return;
  if (existsSync(join(out, 'checkpoint'))) await readWhole(await latestCheckpoint(out));
  for (const name of filesUnder(out)) if (!isTemporary(name) && name.endsWith('.index')) await readWhole(join(out, name.slice(0, -'.index'.length)));
}

describe('kbb warm-start killed with SIGKILL', () => {
  it(
    `at ${KILLS} seeded moments never leaves a checkpoint file naming a broken checkpoint; the same command then writes the bytes of an uninterrupted run`,
    async () => {
      const since = Date.now();
      const reference = await runKbbOk(command, { started: () => changedSince(out, since) });
      const expected = snapshotFiles(out);
      expect([...expected.keys()]).toEqual(['checkpoint', 'model.ckpt-0.data-00000-of-00001', 'model.ckpt-0.index']);
      rmSync(out, { recursive: true, force: true });

      for (const moment of killMoments(KILLS, 3)) {
        const spawned = Date.now();
        const run = await runKbb(command, { started: () => changedSince(out, spawned), killAfterMs: killDelay(moment, reference) });
        if (run.signal !== 'SIGKILL') expect(run.status, run.stderr).toBe(0);
        await expectNothingBroken();
      }
      const rerun = await runKbb(command);
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(filesUnder(out).filter(isTemporary), 'temporaries of the killed runs').toEqual([]);
      expect(snapshotFiles(out)).toEqual(expected);
    },
    killTestTimeout(15000),
  );

  it('a source tensor found corrupt mid-way leaves an earlier warm start exactly as it was (--overwrite)', async () => {
    const earlier = join(dir, 'earlier');
    await warmStart({ ...bert, outputDir: earlier, seed: 1 });
    const before = snapshotFiles(earlier);
    // The BERT's data with one byte flipped in a late variable: it fails its CRC when copied, after the others were written.
    const source = await CheckpointReader.open(bert.initCheckpoint);
    const late = source.variable('bert/pooler/dense/kernel');
    await source.close();
    const corrupt = join(dir, 'corrupt');
    const prefix = join(corrupt, 'bert_model.ckpt');
    mkdirSync(corrupt, { recursive: true });
    writeFileSync(`${prefix}.index`, readFileSync(`${bert.initCheckpoint}.index`));
    const data = readFileSync(`${bert.initCheckpoint}.data-00000-of-00001`);
    data[late.offset + 5] ^= 1;
    writeFileSync(`${prefix}.data-00000-of-00001`, data);
    await expect(warmStart({ ...bert, initCheckpoint: prefix, outputDir: earlier, seed: 2, overwrite: true })).rejects.toThrow(
      /bert_model\.ckpt.*bert\/pooler\/dense\/kernel|bert\/pooler\/dense\/kernel.*bert_model\.ckpt/,
    );
    expect(snapshotFiles(earlier)).toEqual(before);
    expect(filesUnder(earlier).filter(isTemporary)).toEqual([]);
  });
});
