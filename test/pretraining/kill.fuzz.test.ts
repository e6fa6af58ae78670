import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseShardFileName } from '../../lib/pretraining/index.js';
import { readTfRecords } from '../../lib/tfrecord/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import {
  changedSince,
  filesUnder,
  isTemporary,
  KILLS,
  killDelay,
  killMoments,
  killTestTimeout,
  runKbb,
  runKbbOk,
  snapshotFiles,
} from '../helpers/hard-stop.js';

/** kill -9 during `kbb build-tfrecord`, at seeded moments; then the same command again. */

const dir = mkdtempSync(join(tmpdir(), 'kbb-build-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = join(dir, 'out');
const command = [
  'build-tfrecord',
  '--input_dir',
  join(projectRoot, 'data', 'sample-corpus'),
  '--tokenizer_dir',
  join(projectRoot, 'data', 'sample-tokenizer'),
  '--output_dir',
  out,
  '--num_processes',
  '2',
  '--num_shards',
  '5',
  '--max_seq_length',
  '64',
  '--max_predictions_per_seq',
  '10',
  '--do_whole_word_mask',
  '--max_ngram_size',
  '2',
  '--dupe_factor',
  '25',
];

/** The manifest without its one run-dependent value, the build's duration. */
const manifestWithoutTime = (bytes: Buffer): unknown => {
  const manifest = JSON.parse(bytes.toString('utf8'));
  delete manifest.totals.seconds;
  return manifest;
};

/** Everything a kill may leave in the folder is whole: shards read to their end with every CRC right; a manifest parses and lists only shards that are there. */
async function expectNothingBroken(): Promise<void> {
  if (!existsSync(out)) return;
  for (const name of filesUnder(out)) {
    if (isTemporary(name)) continue;
    const path = join(out, name);
    if (parseShardFileName(name)) {
      for await (const _ of readTfRecords(path)) {
        // every record's length and data CRC is checked as it is read
      }
    } else if (name === 'build_manifest.json') {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { shards: { file: string }[] };
      for (const shard of manifest.shards) expect(existsSync(join(out, shard.file)), `${shard.file} listed but not there`).toBe(true);
    } else throw new Error(`${name}: not a file a build writes`);
  }
}

describe('kbb build-tfrecord killed with SIGKILL', () => {
  it(
    `at ${KILLS} seeded moments leaves whole files or hidden temporaries; the same command then finishes with the bytes of an uninterrupted build`,
    async () => {
      const since = Date.now();
      const reference = await runKbbOk(command, { started: () => changedSince(out, since) });
      const expected = snapshotFiles(out);
      expect([...expected.keys()].filter((name) => parseShardFileName(name)).length).toBe(5);
      rmSync(out, { recursive: true, force: true });

      let killedMidway = 0;
      for (const moment of killMoments(KILLS, 1)) {
        // Counted from when this run begins to write, not from its start: starting a process takes longer than the build.
        const spawned = Date.now();
        const run = await runKbb(command, { started: () => changedSince(out, spawned), killAfterMs: killDelay(moment, reference) });
        if (run.signal === 'SIGKILL') killedMidway++;
        await expectNothingBroken();
        // A kill after the manifest is a finished build: the same command then refuses to replace it.
        if (existsSync(join(out, 'build_manifest.json'))) rmSync(out, { recursive: true, force: true });
      }
      expect(killedMidway, 'no kill landed before the build ended').toBeGreaterThan(0);

      const rerun = await runKbb(command);
      expect(rerun.stderr).toBe('');
      expect(rerun.status).toBe(0);
      expect(filesUnder(out).filter(isTemporary), 'temporaries of the killed runs').toEqual([]);
      const got = snapshotFiles(out);
      expect([...got.keys()]).toEqual([...expected.keys()]);
      for (const [name, bytes] of expected) {
        if (name === 'build_manifest.json') expect(manifestWithoutTime(got.get(name)!)).toEqual(manifestWithoutTime(bytes));
        else expect(got.get(name)!.equals(bytes), name).toBe(true);
      }
    },
    killTestTimeout(15000),
  );
});
