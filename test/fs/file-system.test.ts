import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../lib/checksum/index.js';
import { baseName, copyFile, fileSystemFor, joinPath, parentPath, parseGcsPath, relativePath } from '../../lib/fs/index.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

const localRoot = mkdtempSync(join(tmpdir(), 'kbb-fs-'));
afterAll(async () => {
  rmSync(localRoot, { recursive: true, force: true });
});

const stores = [
  { name: 'local', root: () => localRoot, skip: false },
  { name: 'gs:// (emulator)', root: () => `gs://${uniqueBucket('fs')}/some/prefix`, skip: !hasGcsEmulator },
];

const bytes = (n: number, seed = 1): Buffer => {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

describe.each(stores)('one file system: $name', ({ root: rootOf, skip }) => {
  it.skipIf(skip)('writes whole files, reads them whole, by range and as a stream', async () => {
    const root = rootOf();
    const fs = fileSystemFor(root);
    const data = bytes(3_000_123);
    const path = joinPath(root, 'a', 'data.bin');
    await fs.mkdir(parentPath(path));
    await fs.writeFile(path, data);
    expect(Buffer.compare(await fs.readFile(path), data)).toBe(0);
    expect(Buffer.compare(await fs.readRange(path, 1_000_000, 4096), data.subarray(1_000_000, 1_004_096))).toBe(0);
    // A range running past the end gives what there is; one starting past it gives nothing.
    expect((await fs.readRange(path, data.length - 10, 100)).length).toBe(10);
    expect((await fs.readRange(path, data.length + 5, 100)).length).toBe(0);
    const chunks: Buffer[] = [];
    for await (const chunk of fs.createReadStream(path, { start: 17, end: 2_000_016 })) chunks.push(chunk as Buffer);
    expect(Buffer.compare(Buffer.concat(chunks), data.subarray(17, 2_000_017))).toBe(0);
    // A stream from the end of the file (where an earlier read stopped) is empty, not the file again.
    const fromEnd: Buffer[] = [];
    for await (const chunk of fs.createReadStream(path, { start: data.length })) fromEnd.push(chunk as Buffer);
    expect(Buffer.concat(fromEnd).length).toBe(0);
    const tail: Buffer[] = [];
    for await (const chunk of fs.createReadStream(path, { start: data.length - 3 })) tail.push(chunk as Buffer);
    expect(Buffer.compare(Buffer.concat(tail), data.subarray(data.length - 3))).toBe(0);
    const info = await fs.stat(path);
    expect(info).toMatchObject({ size: data.length, isDirectory: false });
    if (fs.kind === 'gcs') expect(info?.crc32c).toBe(crc32c(data));
  });

  it.skipIf(skip)('a streamed write appears only on commit, and an aborted one never', async () => {
    const root = rootOf();
    const fs = fileSystemFor(root);
    const path = joinPath(root, 'stream.bin');
    const data = bytes(20_000_000, 7);
    const writer = fs.createWriteStream(path);
    for (let at = 0; at < data.length; at += 1 << 20) {
      if (!writer.stream.write(data.subarray(at, at + (1 << 20)))) await new Promise((r) => writer.stream.once('drain', r));
      if (at === 0) expect(await fs.stat(path)).toBeUndefined();
    }
    expect(await fs.stat(path)).toBeUndefined();
    await writer.commit();
    expect(Buffer.compare(await fs.readFile(path), data)).toBe(0);

    const dropped = fs.createWriteStream(joinPath(root, 'dropped.bin'));
    dropped.stream.write(data.subarray(0, 5_000_000));
    await dropped.abort();
    expect(await fs.stat(joinPath(root, 'dropped.bin'))).toBeUndefined();
    // Replacing keeps the old content until the new one is complete.
    const replacing = fs.createWriteStream(path);
    replacing.stream.write(Buffer.from('new'));
    expect((await fs.stat(path))?.size).toBe(data.length);
    await replacing.commit();
    expect((await fs.readFile(path)).toString()).toBe('new');
    expect((await fs.list(root)).filter((e) => e.name.startsWith('.'))).toEqual([]);
  });

  it.skipIf(skip)('lists one level with folders, and recursively, past a page of 1000', async () => {
    const root = joinPath(rootOf(), 'listing');
    const fs = fileSystemFor(root);
    const names = Array.from({ length: 1003 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => fs.writeFile(joinPath(root, n), n)));
    await fs.writeFile(joinPath(root, 'sub', 'deep', 'x.txt'), 'x');
    const entries = await fs.list(root);
    expect(entries.length).toBe(1004);
    expect(entries.find((e) => e.name === 'sub')).toEqual({ name: 'sub', isDirectory: true });
    expect(
      entries
        .filter((e) => !e.isDirectory)
        .map((e) => e.name)
        .sort(),
    ).toEqual(names);
    const all = await fs.listRecursive(root);
    expect(all.length).toBe(1004);
    expect(all).toContain('sub/deep/x.txt');
    expect(await fs.stat(joinPath(root, 'sub'))).toMatchObject({ isDirectory: true });
    expect(await fs.list(joinPath(root, 'nothing-here'))).toEqual([]);
    await fs.remove(joinPath(root, 'sub', 'deep', 'x.txt'));
    await fs.remove(joinPath(root, 'sub', 'deep', 'x.txt'));
    // On Cloud Storage a folder is only a prefix: with its last object gone, it is gone.
    if (fs.kind === 'gcs') expect(await fs.stat(joinPath(root, 'sub'))).toBeUndefined();
  });

  it.skipIf(skip)('a missing file is ENOENT and names the path', async () => {
    const path = joinPath(rootOf(), 'missing.txt');
    await expect(fileSystemFor(path).readFile(path)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('missing.txt') });
    expect(await fileSystemFor(path).stat(path)).toBeUndefined();
  });

  it.skipIf(skip)('an appendable file grows in place, visible at each flush', async () => {
    const path = joinPath(rootOf(), 'events.out');
    const fs = fileSystemFor(path);
    await fs.mkdir(parentPath(path));
    const file = await fs.createAppendable(path);
    await file.append(Buffer.from('one '));
    await file.flush();
    expect((await fs.readFile(path)).toString()).toBe('one ');
    await file.append(Buffer.from('two'));
    await file.close();
    expect((await fs.readFile(path)).toString()).toBe('one two');
    await expect(fs.createAppendable(path)).rejects.toThrow();
  });
});

describe.skipIf(!hasGcsEmulator)('between stores', () => {
  it('copies local → gs:// → local, byte for byte, and counts the bytes', async () => {
    const data = bytes(5_432_100, 3);
    const local = join(localRoot, 'copy-src.bin');
    await fileSystemFor(local).writeFile(local, data);
    const remote = `gs://${uniqueBucket('copy')}/x/copy.bin`;
    let counted = 0;
    await copyFile(local, remote, (n) => {
      counted += n;
    });
    expect(counted).toBe(data.length);
    const back = join(localRoot, 'copy-back.bin');
    await copyFile(remote, back);
    expect(Buffer.compare(await fileSystemFor(back).readFile(back), data)).toBe(0);
  });
});

describe('gs:// paths', () => {
  it('join, parent, base name and relative keep the scheme and the bucket', () => {
    expect(joinPath('gs://b-1/x', 'y', '../z', 'w.txt')).toBe('gs://b-1/x/z/w.txt');
    expect(joinPath('gs://b-1', 'a')).toBe('gs://b-1/a');
    expect(joinPath('gs://b-1/dir/', '')).toBe('gs://b-1/dir');
    expect(parentPath('gs://b-1/x/y.txt')).toBe('gs://b-1/x');
    expect(parentPath('gs://b-1/x')).toBe('gs://b-1');
    expect(baseName('gs://b-1/x/y.txt')).toBe('y.txt');
    expect(relativePath('gs://b-1/x', 'gs://b-1/x/y/z')).toBe('y/z');
    expect(() => joinPath('gs://b-1/x', '../../..')).toThrow(/above the bucket/);
  });
  it('a bad bucket name says what is allowed', () => {
    expect(() => parseGcsPath('gs://Bad_Bucket/x')).toThrow(/not a Cloud Storage bucket name/);
    expect(parseGcsPath('gs://ok-bucket/a//b')).toEqual({ bucket: 'ok-bucket', name: 'a/b' });
  });
});
