import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { countRecords, RecordFile, type RecordPointer, readTfRecords, TfRecordError, TfRecordWriter } from '../../lib/tfrecord/index.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

const localRoot = mkdtempSync(join(tmpdir(), 'kbb-tfrecord-gcs-'));
afterAll(async () => {
  rmSync(localRoot, { recursive: true, force: true });
});

/** Records of varied sizes with content that depends on their number. */
const records = (count: number, maxBytes: number): Uint8Array[] =>
  Array.from({ length: count }, (_, i) => {
    const r = new Uint8Array(1 + ((i * 7919) % maxBytes));
    for (let k = 0; k < r.length; k++) r[k] = (i * 31 + k * 7) & 255;
    return r;
  });

async function write(path: string, data: readonly Uint8Array[], options: Parameters<typeof TfRecordWriter.open>[1] = {}): Promise<void> {
  const writer = TfRecordWriter.open(path, options);
  for (const r of data) await writer.write(r);
  await writer.close();
}

async function readAll(path: string, options: Parameters<typeof readTfRecords>[1] = {}): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const r of readTfRecords(path, options)) out.push(r.data);
  return out;
}

describe.skipIf(!hasGcsEmulator)('TFRecords on gs:// (emulator)', () => {
  const bucket = (label: string) => `gs://${uniqueBucket(label)}/data`;

  it('the writer uploads the same bytes a local write gives: one upload for a small file, a streamed one past the buffer, gzip too', async () => {
    const root = bucket('tfw');
    for (const [name, data, options] of [
      ['small', records(20, 300), {}],
      ['streamed', records(400, 5000), { bufferSize: 4096 }],
      ['gzip', records(300, 3000), { compression: 'gzip' as const, bufferSize: 4096 }],
      ['empty', [], {}],
    ] as const) {
      const local = join(localRoot, name);
      const remote = joinPath(root, name);
      await write(local, data, options);
      await write(remote, data, options);
      const bytes = await fileSystemFor(remote).readFile(remote);
      expect(Buffer.compare(bytes, readFileSync(local)), name).toBe(0);
      expect(await readAll(remote), name).toEqual([...data]);
      expect(await countRecords(remote)).toBe(data.length);
    }
  });

  it('an object appears only when the writer closes, and an aborted writer leaves none', async () => {
    const root = bucket('tfatomic');
    const fs = fileSystemFor(root);
    const path = joinPath(root, 'shard');
    const writer = TfRecordWriter.open(path, { bufferSize: 1024 });
    for (const r of records(200, 2000)) await writer.write(r);
    expect(await fs.stat(path)).toBeUndefined();
    await writer.close();
    expect((await fs.stat(path))?.size).toBe(writer.bytes);

    const aborted = joinPath(root, 'aborted');
    const second = TfRecordWriter.open(aborted, { bufferSize: 1024 });
    for (const r of records(200, 2000)) await second.write(r);
    await second.abort();
    const small = TfRecordWriter.open(joinPath(root, 'aborted-small'));
    await small.write(new Uint8Array([1, 2, 3]));
    await small.abort();
    expect((await fs.list(root)).map((e) => e.name)).toEqual(['shard']);
    // The local spool files of the uploads are gone, closed or aborted.
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`.kbb-spool-${process.pid}-`))).toEqual([]);
  });

  it('reads from an offset, detects gzip with a ranged read, and names a missing object', async () => {
    const root = bucket('tfread');
    const data = records(50, 700);
    const path = joinPath(root, 'plain');
    await write(path, data);
    const all: { offset: number; data: Uint8Array }[] = [];
    for await (const r of readTfRecords(path)) all.push(r);
    const from = await readAll(path, { start: all[30].offset });
    expect(from).toEqual(data.slice(30));

    const missing = joinPath(root, 'missing');
    const error = await readAll(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfRecordError);
    expect((error as TfRecordError).code).toBe('unreadable');
    expect((error as Error).message).toBe(`${missing}: record 0 at byte 0: file could not be opened (no such object)`);
  });

  it('RecordFile reads headers and payloads by range, across its read-ahead window, as it does a local file', async () => {
    const root = bucket('tfrandom');
    // About 3 MiB: headers beyond the first 1 MiB window, and records that straddle a window's end.
    const data = records(700, 9000);
    const local = join(localRoot, 'random');
    const remote = joinPath(root, 'random');
    await write(local, data);
    await write(remote, data);
    const index = async (path: string): Promise<{ file: RecordFile; pointers: RecordPointer[] }> => {
      const file = await RecordFile.open(path);
      const pointers: RecordPointer[] = [];
      for (let offset = 0, i = 0; ; i++) {
        const pointer = await file.pointerAt(offset, i);
        if (!pointer) break;
        pointers.push(pointer);
        offset = RecordFile.next(pointer);
      }
      return { file, pointers };
    };
    const a = await index(local);
    const b = await index(remote);
    expect(b.file.size).toBeGreaterThan(3 << 20);
    expect(b.file.size).toBe(a.file.size);
    expect(b.pointers).toEqual(a.pointers);
    expect(b.pointers.length).toBe(data.length);
    // A shuffled order, as the training input reads them.
    for (const k of [699, 0, 350, 1, 698, 123, 500, 124]) expect(await b.file.read(b.pointers[k])).toEqual(data[k]);
    await a.file.close();
    await b.file.close();

    // A corrupt payload is found on the remote file as on the local one.
    const bytes = Buffer.from(readFileSync(local));
    bytes[b.pointers[400].offset + 20] ^= 1;
    const corrupt = joinPath(root, 'corrupt');
    await fileSystemFor(corrupt).writeFile(corrupt, bytes);
    const file = await RecordFile.open(corrupt);
    await expect(file.read(b.pointers[400])).rejects.toThrow(`${corrupt}: record 400 at byte ${b.pointers[400].offset}: data CRC mismatch`);
    await file.close();
    await expect(RecordFile.open(joinPath(root, 'none'))).rejects.toThrow(
      `${joinPath(root, 'none')}: record 0 at byte 0: file could not be opened (no such file)`,
    );
  });
});
