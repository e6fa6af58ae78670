import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestCheckpoint, warmStart } from '../../lib/checkpoint/index.js';
import { openSafetensors } from '../../lib/convert/index.js';
import { writeBertCheckpoint } from '../helpers/bert-checkpoint.js';
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

/**
 * kill -9 during `kbb export` and `kbb import-hf`, at seeded moments; then the same command again. The
 * commands run with --overwrite: a kill after the last file is a finished run, which the same command
 * without it would refuse to replace.
 */

const dir = mkdtempSync(join(tmpdir(), 'kbb-convert-kill-'));
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');
const checkpointDir = join(dir, 'bigbird');
const hfDir = join(dir, 'hf');
const importDir = join(dir, 'imported');
let configFile = '';

beforeAll(async () => {
  const bert = await writeBertCheckpoint(dir);
  configFile = bert.configFile;
  await warmStart({ ...bert, outputDir: checkpointDir, seed: 3 });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A zip (pytorch_model.bin) is whole when it ends with its end-of-central-directory record. */
const isWholeZip = (bytes: Buffer): boolean => bytes.length >= 22 && bytes.readUInt32LE(bytes.length - 22) === 0x06054b50;

/** Every file under a final name in a Hugging Face folder is whole. */
async function expectWholeHfFolder(folder: string): Promise<void> {
  if (!existsSync(folder)) return;
  for (const name of filesUnder(folder)) {
    if (isTemporary(name)) continue;
    const path = join(folder, name);
    if (name.endsWith('.safetensors')) {
      const file = await openSafetensors(path);
      for (const tensor of file.tensors.keys()) await file.read(tensor);
    } else if (name.endsWith('.json')) JSON.parse(readFileSync(path, 'utf8'));
    else if (name === 'pytorch_model.bin') expect(isWholeZip(readFileSync(path)), `${name} is cut short`).toBe(true);
    else if (name === 'vocab.txt') expect(readFileSync(path).equals(readFileSync(join(tokenizerDir, name))), name).toBe(true);
  }
}

/** Every index under a final name has all its data; the `checkpoint` file names a whole checkpoint. */
async function expectWholeCheckpointFolder(folder: string): Promise<void> {
  if (!existsSync(folder)) return;
  if (existsSync(join(folder, 'checkpoint'))) await readWhole(await latestCheckpoint(folder));
  for (const name of filesUnder(folder)) {
    if (isTemporary(name)) continue;
    if (name.endsWith('.index')) await readWhole(join(folder, name.slice(0, -'.index'.length)));
    else if (name.endsWith('.json')) JSON.parse(readFileSync(join(folder, name), 'utf8'));
  }
}

/** The kill loop of one command: kills at seeded moments, each followed by the checks; then a rerun that must give `expected`. */
async function killAndRerun(command: string[], out: string, salt: number, check: () => Promise<void>): Promise<void> {
  const since = Date.now();
  const reference = await runKbbOk(command, { started: () => changedSince(out, since) });
  const expected = snapshotFiles(out);
  rmSync(out, { recursive: true, force: true });
  for (const moment of killMoments(KILLS, salt)) {
    const spawned = Date.now();
    const run = await runKbb(command, { started: () => changedSince(out, spawned), killAfterMs: killDelay(moment, reference) });
    if (run.signal !== 'SIGKILL') expect(run.status, run.stderr).toBe(0);
    await check();
  }
  const rerun = await runKbb(command);
  expect(rerun.status, rerun.stderr).toBe(0);
  expect(filesUnder(out).filter(isTemporary), 'temporaries of the killed runs').toEqual([]);
  const got = snapshotFiles(out);
  expect([...got.keys()]).toEqual([...expected.keys()]);
  for (const [name, bytes] of expected) expect(got.get(name)!.equals(bytes), name).toBe(true);
}

describe('kbb export and import-hf killed with SIGKILL', () => {
  it(
    `export, at ${KILLS} seeded moments: whole files only; the same command then writes the bytes of an uninterrupted run`,
    async () => {
      // biome-ignore format: a command line
      const command = ['export', '--checkpoint_dir', checkpointDir, '--output_dir', hfDir, '--big_bird_config_file', configFile, '--tokenizer_dir', tokenizerDir, '--pytorch_bin', '--overwrite'];
      await killAndRerun(command, hfDir, 4, () => expectWholeHfFolder(hfDir));
    },
    killTestTimeout(20000),
  );

  it(
    `import-hf, at ${KILLS} seeded moments: no checkpoint file naming a broken checkpoint; the same command then writes the bytes of an uninterrupted run`,
    async () => {
      if (!existsSync(join(hfDir, 'model.safetensors')))
        await runKbbOk([
          'export',
          '--checkpoint_dir',
          checkpointDir,
          '--output_dir',
          hfDir,
          '--big_bird_config_file',
          configFile,
          '--tokenizer_dir',
          tokenizerDir,
        ]);
      const command = ['import-hf', '--hf_dir', hfDir, '--output_dir', importDir, '--overwrite'];
      await killAndRerun(command, importDir, 5, () => expectWholeCheckpointFolder(importDir));
    },
    killTestTimeout(20000),
  );
});
