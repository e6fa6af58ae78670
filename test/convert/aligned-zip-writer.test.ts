import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlignedZipWriter, type AlignedZipWriterOptions } from '../../lib/convert/aligned-zip-writer.js';
import { hasPythonNumpy, INSPECT_PYTORCH_BIN, runPython, SKIP_NO_PYTHON } from '../helpers/python.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-aligned-zip-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Listed {
  readonly name: string;
  readonly size: number;
  readonly compressed: boolean;
  readonly dataOffset: number;
  readonly sha256: string;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const ENTRIES: readonly (readonly [string, Uint8Array])[] = [
  ['archive/data.pkl', Uint8Array.from({ length: 201 }, (_, i) => (i * 7) & 0xff)],
  ['archive/empty', new Uint8Array(0)],
  ['archive/data/0', Uint8Array.from({ length: 64 }, (_, i) => i)],
  ['archive/naïve/名前', new TextEncoder().encode('non-ASCII names get the UTF-8 flag')],
  ['archive/odd', Uint8Array.from([1, 2, 3])],
];

async function build(name: string, options: AlignedZipWriterOptions): Promise<string> {
  const path = join(dir, name);
  const handle = await open(path, 'wx');
  try {
    const zip = new AlignedZipWriter(handle, options);
    for (const [entry, data] of ENTRIES) await zip.add(entry, data);
    await zip.finish();
  } finally {
    await handle.close();
  }
  return path;
}

/** The end-of-central-directory record (the file has no comment, so it is the last 22 bytes). */
function endRecord(path: string): { readonly bytes: Buffer; readonly count: number; readonly directoryOffset: number } {
  const bytes = readFileSync(path);
  const end = bytes.subarray(bytes.length - 22);
  expect(end.readUInt32LE(0)).toBe(0x06054b50);
  return { bytes, count: end.readUInt16LE(10), directoryOffset: end.readUInt32LE(16) };
}

describe.skipIf(!hasPythonNumpy)(`AlignedZipWriter: read back with Python's zipfile${hasPythonNumpy ? '' : ` (${SKIP_NO_PYTHON})`}`, () => {
  for (const [label, options, alignment] of [
    ['plain ZIP, 64-byte alignment', {}, 64],
    ['plain ZIP, 4096-byte alignment', { alignment: 4096 }, 4096],
    ['ZIP64 records forced (the layout over 4 GiB or 65535 entries)', { forceZip64: true }, 64],
  ] as const) {
    it(label, async () => {
      const path = await build(`${label.replace(/\W+/g, '-')}.zip`, options);
      const listed = (JSON.parse(runPython([INSPECT_PYTORCH_BIN, path, '--zip-only'])) as { entries: Listed[] }).entries;
      expect(listed.map(({ name, size, compressed, sha256: hash }) => ({ name, size, compressed, hash }))).toEqual(
        ENTRIES.map(([name, data]) => ({ name, size: data.length, compressed: false, hash: sha256(data) })),
      );
      for (const entry of listed) expect(entry.dataOffset % alignment).toBe(0);

      const { bytes, count, directoryOffset } = endRecord(path);
      const hasZip64End = bytes.readUInt32LE(bytes.length - 22 - 20) === 0x07064b50;
      expect(hasZip64End).toBe('forceZip64' in options);
      if (hasZip64End) {
        expect([count, directoryOffset]).toEqual([0xffff, 0xffffffff]);
        const zip64EndOffset = Number(bytes.readBigUInt64LE(bytes.length - 22 - 20 + 8));
        expect(bytes.readUInt32LE(zip64EndOffset)).toBe(0x06064b50);
        expect(Number(bytes.readBigUInt64LE(zip64EndOffset + 32))).toBe(ENTRIES.length);
      } else {
        expect(count).toBe(ENTRIES.length);
        expect(bytes.readUInt32LE(directoryOffset)).toBe(0x02014b50);
      }
    });
  }
});

describe('AlignedZipWriter', () => {
  it('refuses entries after finish and an alignment that is not a positive 16-bit integer', async () => {
    const handle = await open(join(dir, 'finished.zip'), 'wx');
    try {
      expect(() => new AlignedZipWriter(handle, { alignment: 0 })).toThrow(/alignment 0/);
      expect(() => new AlignedZipWriter(handle, { alignment: 70000 })).toThrow(/alignment 70000/);
      const zip = new AlignedZipWriter(handle);
      await zip.finish();
      await expect(zip.add('late', new Uint8Array(1))).rejects.toThrow(/already finished/);
      await expect(zip.finish()).rejects.toThrow(/already finished/);
    } finally {
      await handle.close();
    }
  });
});
