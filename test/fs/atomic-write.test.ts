import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporaryPath, writeBytesAtomically, writeFileAtomically } from '../../lib/fs/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('safe file writes (lib/fs)', () => {
  it('temporary names are hidden, beside the final name, and never the same twice', () => {
    const target = join(dir, 'model.safetensors');
    const names = Array.from({ length: 3 }, () => temporaryPath(target));
    for (const name of names) {
      expect(dirname(name)).toBe(dir);
      expect(basename(name)).toMatch(/^\.model\.safetensors\.tmp-\d+-\d+$/);
    }
    expect(new Set(names).size).toBe(3);
  });

  it('writes a new file and replaces an old one whole, leaving no temporary file', async () => {
    const path = join(dir, 'config.json');
    await writeBytesAtomically(path, '{"a": 1}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"a": 1}\n');
    await writeBytesAtomically(path, new Uint8Array([0x7b, 0x7d]));
    expect(readFileSync(path, 'utf8')).toBe('{}');
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('a write that fails halfway leaves the old file as it was and removes the temporary one', async () => {
    const path = join(dir, 'checkpoint');
    writeFileSync(path, 'old content');
    const failing = writeFileAtomically(path, async (handle) => {
      await handle.write('new, but only half');
      throw new Error('disk on fire');
    });
    await expect(failing).rejects.toThrow('disk on fire');
    expect(readFileSync(path, 'utf8')).toBe('old content');
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('a file that cannot be written is an error naming it', async () => {
    const path = join(dir, 'no-such-folder', 'vocab.txt');
    await expect(writeBytesAtomically(path, 'x')).rejects.toThrow(`${path}: cannot write (`);
  });
});
