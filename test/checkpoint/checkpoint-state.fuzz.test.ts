import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCheckpointState, latestCheckpoint, parseCheckpointState } from '../../lib/checkpoint/index.js';
import { expectReadOrRefused, fuzzParameters, HOSTILE_NAMES, mutated } from '../helpers/fuzz.js';

/*
 * The `checkpoint` file (a text-format CheckpointState) names the checkpoint to resume, export or
 * prune. Mutated, it must parse or be refused naming the file; and whatever relative name it gives
 * must stay inside its folder.
 */

/** As TensorFlow 2 writes it: paths, then the timestamps newer versions add, and a non-ASCII path in protobuf's octal escapes. */
const VALID = [
  'model_checkpoint_path: "model.ckpt-2000"',
  'all_model_checkpoint_paths: "model.ckpt-1000"',
  'all_model_checkpoint_paths: "model.ckpt-2000"',
  'all_model_checkpoint_paths: "\\355\\225\\234/model.ckpt-1500"',
  'all_model_checkpoint_timestamps: 1700000000.25',
  'all_model_checkpoint_timestamps: 1700000100.5',
  'last_preserved_timestamp: 1699999999.125',
  '',
].join('\n');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-ckpt-state-fuzz-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const inside = (folder: string, path: string): boolean => {
  const r = relative(folder, path);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
};

describe('fuzzed checkpoint state files', () => {
  it('the valid file parses: timestamps passed over, octal escapes decoded', () => {
    expect(parseCheckpointState(VALID, join(dir, 'checkpoint'))).toEqual({
      modelCheckpointPath: 'model.ckpt-2000',
      allModelCheckpointPaths: ['model.ckpt-1000', 'model.ckpt-2000', '한/model.ckpt-1500'],
    });
  });

  it('a mutated file parses or is refused naming the file; a relative name found never leaves the folder', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(Buffer.from(VALID)), async (input) => {
        const folder = join(dir, `case-${n++}`);
        mkdirSync(folder);
        const file = join(folder, 'checkpoint');
        writeFileSync(file, input.bytes);
        await expectReadOrRefused(
          file,
          async () => {
            const prefix = await latestCheckpoint(folder);
            if (!isAbsolute(prefix) || prefix.startsWith(folder)) expect(inside(folder, prefix), prefix).toBe(true);
            const state = parseCheckpointState(Buffer.from(input.bytes).toString('utf8'), file);
            for (const path of state.allModelCheckpointPaths) if (!isAbsolute(path)) expect(inside(folder, join(folder, path)), path).toBe(true);
          },
          input.mutations,
        );
      }),
      fuzzParameters(),
    );
  });

  it('names that climb out of the folder are refused with the file and line; absolute paths are kept, as TensorFlow writes them', async () => {
    const folder = join(dir, 'hostile');
    mkdirSync(folder);
    const file = join(folder, 'checkpoint');
    for (const name of HOSTILE_NAMES.filter((n) => !n.startsWith('/'))) {
      writeFileSync(file, formatCheckpointState({ modelCheckpointPath: name, allModelCheckpointPaths: [] }));
      await expect(latestCheckpoint(folder), name).rejects.toThrow(`${file}:1: model_checkpoint_path`);
    }
    writeFileSync(file, 'model_checkpoint_path: "model.ckpt-1"\nall_model_checkpoint_paths: "../other/model.ckpt-0"\n');
    await expect(latestCheckpoint(folder)).rejects.toThrow(`${file}:2: all_model_checkpoint_paths "../other/model.ckpt-0" goes up with ".."`);
    writeFileSync(file, 'model_checkpoint_path: "/data/run/model.ckpt-9"\n');
    expect(await latestCheckpoint(folder)).toBe('/data/run/model.ckpt-9');
    writeFileSync(file, `model_checkpoint_path: "${'x'.repeat(70_000)}"\n`);
    await expect(latestCheckpoint(folder)).rejects.toThrow(`${file}:1: a line of 70025 characters (at most 65536)`);
    writeFileSync(file, Buffer.alloc(5 << 20, 0x20));
    await expect(latestCheckpoint(folder)).rejects.toThrow(
      `${file}: cannot read the checkpoint state file (5242880 bytes, more than a checkpoint state file holds`,
    );
  });
});
