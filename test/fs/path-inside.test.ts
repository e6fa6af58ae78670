import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, joinInside, pathInside } from '../../lib/fs/index.js';
import { HOSTILE_NAMES } from '../helpers/fuzz.js';

const root = mkdtempSync(join(tmpdir(), 'kbb-path-inside-'));
const dir = join(root, 'model');
mkdirSync(join(dir, 'sub'), { recursive: true });
writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), 'x');
writeFileSync(join(dir, 'sub', 'inner.txt'), 'x');
writeFileSync(join(root, 'outside.safetensors'), 'secret');
mkdirSync(join(root, 'elsewhere'));
// Links inside the folder: one to a file outside, one to a folder outside, one to the folder itself, one that stays inside.
symlinkSync(join(root, 'outside.safetensors'), join(dir, 'link-out.safetensors'));
symlinkSync(join(root, 'elsewhere'), join(dir, 'linked-dir'));
symlinkSync('.', join(dir, 'self'));
symlinkSync('sub/inner.txt', join(dir, 'link-in.txt'));
symlinkSync('loop-b', join(dir, 'loop-a'));
symlinkSync('loop-a', join(dir, 'loop-b'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The error `fn` throws (fails when it returns). */
async function refusal(fn: () => unknown): Promise<InputError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  return expect.fail('expected an InputError');
}

describe('pathInside: a name read from a file stays inside its folder (lib/fs)', () => {
  it('joins plain relative names, in sub-folders too, and names that do not exist yet', async () => {
    expect(await pathInside(dir, 'model-00001-of-00002.safetensors')).toBe(join(dir, 'model-00001-of-00002.safetensors'));
    expect(await pathInside(dir, 'sub/inner.txt')).toBe(join(dir, 'sub', 'inner.txt'));
    expect(await pathInside(dir, './sub//inner.txt')).toBe(join(dir, 'sub', 'inner.txt'));
    expect(await pathInside(dir, 'new/file.bin')).toBe(join(dir, 'new', 'file.bin'));
    expect(await pathInside(join(root, 'not-yet'), 'a.txt')).toBe(join(root, 'not-yet', 'a.txt'));
    // A link that stays inside the folder is fine.
    expect(await pathInside(dir, 'link-in.txt')).toBe(join(dir, 'link-in.txt'));
  });

  it.each(HOSTILE_NAMES)('refuses %j, naming the file it came from, the name and what was expected', async (name) => {
    const error = await refusal(() => pathInside(dir, name, { file: join(dir, 'model.safetensors.index.json'), what: 'shard' }));
    expect(error.file).toBe(join(dir, 'model.safetensors.index.json'));
    expect(error.message).toContain(`${join(dir, 'model.safetensors.index.json')}: shard ${JSON.stringify(name)}`);
    expect(error.message).toContain(`expected a relative file name inside ${dir}`);
    expect(() => joinInside(dir, name)).toThrow(InputError);
  });

  it('refuses names that are not strings, or too long, or hold control characters', async () => {
    for (const name of [null, 3, {}, ['a'], 'x'.repeat(5000), `${'x'.repeat(256)}/a`, 'a\nb', 'gs://bucket/x']) await refusal(() => pathInside(dir, name));
    expect((await refusal(() => pathInside(dir, 'loop-a'))).message).toMatch(/"loop-a" leads into a loop of symbolic links/);
  });

  it('refuses a symbolic link inside the folder that leads outside it, to a file or through a folder, or back to the folder', async () => {
    const toFile = await refusal(() => pathInside(dir, 'link-out.safetensors', 'shard'));
    expect(toFile.message).toContain(`leads to ${join(root, 'outside.safetensors')} through a symbolic link, outside the folder`);
    await refusal(() => pathInside(dir, 'linked-dir/new.bin'));
    await refusal(() => pathInside(dir, 'self'));
    // A string for the source says what the name is; the error then names the folder.
    expect((await refusal(() => pathInside(dir, '../x', 'tar member'))).message).toBe(
      `${dir}: tar member "../x" goes up with ".." (expected a relative file name inside ${dir})`,
    );
  });

  it('a folder reached through a link is fine: only where the name leads from the folder matters', async () => {
    const linkedRoot = join(root, 'linked-model');
    symlinkSync(dir, linkedRoot);
    expect(await pathInside(linkedRoot, 'sub/inner.txt')).toBe(join(linkedRoot, 'sub', 'inner.txt'));
  });

  it('checks gs:// names as text (Cloud Storage has no links)', async () => {
    expect(await pathInside('gs://bucket/model', 'model-00001-of-00002.safetensors')).toBe('gs://bucket/model/model-00001-of-00002.safetensors');
    for (const name of ['../other/x', '/x', 'a/../../x']) await refusal(() => pathInside('gs://bucket/model', name));
  });
});
