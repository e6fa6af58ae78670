import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExamples, readTfRecords, TfRecordError, type TfRecordReadOptions, TfRecordWriter } from '../../lib/tfrecord/index.js';

let dir = '';
/** Three records 'aaaa', 'bbbbbb', 'cc': 12-byte header + data + 4-byte CRC → headers at 0, 20, 42; 60 bytes. */
let good: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-tfr-bad-'));
  const writer = TfRecordWriter.open(join(dir, 'good.tfrecord'));
  for (const r of ['aaaa', 'bbbbbb', 'cc']) await writer.write(Buffer.from(r));
  await writer.close();
  good = readFileSync(join(dir, 'good.tfrecord'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A copy of the good file with `edit` applied (in place, or returning new bytes), written under `name`. */
function variant(name: string, edit: (bytes: Buffer) => unknown, gzip = false): string {
  const bytes = Buffer.from(good);
  const returned = edit(bytes);
  const edited = Buffer.isBuffer(returned) ? returned : bytes;
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(edited) : edited);
  return path;
}

async function readAll(path: string, options: TfRecordReadOptions = {}) {
  const stream = readTfRecords(path, options);
  const records: { text: string; index: number; offset: number }[] = [];
  for await (const r of stream) records.push({ text: Buffer.from(r.data).toString(), index: r.index, offset: r.offset });
  return { records, skipped: stream.skipped, count: stream.records };
}

/** The error a read throws, checked to be a TfRecordError. */
async function failure(path: string, options: TfRecordReadOptions = {}): Promise<TfRecordError> {
  const error = await readAll(path, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TfRecordError);
  return error as TfRecordError;
}

const where = (e: TfRecordError) => ({ file: e.file, recordIndex: e.recordIndex, offset: e.offset, code: e.code });
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('corrupt TFRecord files', () => {
  it('the good file is what the comments say', async () => {
    expect(good.length).toBe(60);
    expect((await readAll(join(dir, 'good.tfrecord'))).records).toEqual([
      { text: 'aaaa', index: 0, offset: 0 },
      { text: 'bbbbbb', index: 1, offset: 20 },
      { text: 'cc', index: 2, offset: 42 },
    ]);
  });

  for (const [what, at] of [
    ['a flipped data byte', 20 + 12 + 2],
    ['a flipped byte of the stored data CRC', 20 + 12 + 6 + 1],
  ] as const) {
    it(`${what}: data CRC mismatch naming file, record and offset; skip mode drops just that record`, async () => {
      const path = variant(`data-${at}.tfrecord`, (b) => {
        b[at] ^= 0x10;
      });
      const error = await failure(path);
      expect(where(error)).toEqual({ file: path, recordIndex: 1, offset: 20, code: 'data-crc' });
      expect(error.message).toMatch(
        new RegExp(`^${escapeRegExp(path)}: record 1 at byte 20: data CRC mismatch \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)$`),
      );

      const seen: TfRecordError[] = [];
      const { records, skipped, count } = await readAll(path, { onCorrupt: 'skip', onSkip: (e) => seen.push(e) });
      expect(records).toEqual([
        { text: 'aaaa', index: 0, offset: 0 },
        { text: 'cc', index: 2, offset: 42 },
      ]);
      expect(count).toBe(2);
      expect(skipped.map(where)).toEqual([{ file: path, recordIndex: 1, offset: 20, code: 'data-crc' }]);
      expect(seen).toEqual(skipped);
    });
  }

  it('several bad records: each counted where it is, the good ones all read', async () => {
    const path = variant('data-many.tfrecord', (b) => {
      b[12] ^= 1; // record 0's data
      b[42 + 12] ^= 1; // record 2's data
    });
    const { records, skipped } = await readAll(path, { onCorrupt: 'skip' });
    expect(records.map((r) => r.text)).toEqual(['bbbbbb']);
    expect(skipped.map((e) => [e.recordIndex, e.offset, e.code])).toEqual([
      [0, 0, 'data-crc'],
      [2, 42, 'data-crc'],
    ]);
  });

  for (const [what, at] of [
    ['a flipped length byte', 42],
    ['a flipped byte of the stored length CRC', 42 + 9],
  ] as const) {
    it(`${what}: length CRC mismatch; skip mode keeps what came before and ends the file there`, async () => {
      const path = variant(`length-${at}.tfrecord`, (b) => {
        b[at] ^= 0x01;
      });
      const error = await failure(path);
      expect(where(error)).toEqual({ file: path, recordIndex: 2, offset: 42, code: 'length-crc' });
      expect(error.message).toMatch(
        new RegExp(`^${escapeRegExp(path)}: record 2 at byte 42: length CRC mismatch \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)`),
      );
      const { records, skipped } = await readAll(path, { onCorrupt: 'skip' });
      expect(records.map((r) => r.text)).toEqual(['aaaa', 'bbbbbb']);
      expect(skipped.map(where)).toEqual([{ file: path, recordIndex: 2, offset: 42, code: 'length-crc' }]);
    });
  }

  it('a bad length in the first record ends the file at once, even in skip mode', async () => {
    const path = variant('length-first.tfrecord', (b) => {
      b[0] ^= 0x40;
    });
    const { records, skipped } = await readAll(path, { onCorrupt: 'skip' });
    expect(records).toEqual([]);
    expect(skipped.map((e) => [e.recordIndex, e.offset, e.code])).toEqual([[0, 0, 'length-crc']]);
  });

  it('a file cut inside a header, a payload or a data CRC: truncated, with the offset', async () => {
    const cutHeader = variant('cut-header.tfrecord', (b) => b.subarray(0, 25));
    expect((await failure(cutHeader)).message).toBe(`${cutHeader}: record 1 at byte 20: truncated record header: expected 12 bytes, only 5 left`);
    const cutData = variant('cut-data.tfrecord', (b) => b.subarray(0, 55));
    expect((await failure(cutData)).message).toBe(
      `${cutData}: record 2 at byte 42: truncated record: header says 2 data bytes + 4-byte CRC, only 1 bytes left`,
    );
    const cutCrc = variant('cut-crc.tfrecord', (b) => b.subarray(0, 58));
    expect(where(await failure(cutCrc))).toEqual({ file: cutCrc, recordIndex: 2, offset: 42, code: 'truncated' });

    const { records, skipped } = await readAll(cutData, { onCorrupt: 'skip' });
    expect(records.map((r) => r.text)).toEqual(['aaaa', 'bbbbbb']);
    expect(skipped.map((e) => e.code)).toEqual(['truncated']);
    // A cut exactly between records is a shorter, valid file.
    expect((await readAll(variant('cut-clean.tfrecord', (b) => b.subarray(0, 42)))).records).toHaveLength(2);
  });

  it('checksums can be left unverified; an absurd length is then refused rather than buffered', async () => {
    const flipped = variant('unverified.tfrecord', (b) => {
      b[20 + 12 + 2] ^= 0xff;
    });
    expect((await readAll(flipped, { verifyChecksums: false })).records).toHaveLength(3);
    const huge = variant('huge-length.tfrecord', (b) => {
      b[20 + 6] = 0x01;
    }); // length + 2^48
    const error = await failure(huge, { verifyChecksums: false });
    expect(where(error)).toEqual({ file: huge, recordIndex: 1, offset: 20, code: 'too-large' });
    expect(where(await failure(huge))).toEqual({ file: huge, recordIndex: 1, offset: 20, code: 'length-crc' });
  });

  it('inside GZIP the same checks apply, with offsets in the decompressed stream', async () => {
    const path = variant(
      'data.tfrecord.gz',
      (b) => {
        b[42 + 12] ^= 1;
      },
      true,
    );
    expect(where(await failure(path))).toEqual({ file: path, recordIndex: 2, offset: 42, code: 'data-crc' });
  });

  it('a garbage GZIP stream: an error naming the file', async () => {
    const path = join(dir, 'garbage.tfrecord.gz');
    writeFileSync(path, Buffer.concat([gzipSync(good).subarray(0, 10), Buffer.alloc(40, 0x55)]));
    const error = await failure(path);
    expect(where(error)).toEqual({ file: path, recordIndex: 0, offset: 0, code: 'bad-gzip' });
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(path)}: record 0 at byte 0: GZIP data is corrupt after 0 decompressed bytes \\(zlib: .+\\)$`));
  });

  it('a GZIP file cut short: the records before the cut, then an error (or one skipped problem)', async () => {
    const many = Buffer.concat(Array.from({ length: 200 }, () => good));
    const zipped = gzipSync(many, { level: 0 }); // stored blocks: a cut loses only what follows it
    const path = join(dir, 'cut.tfrecord.gz');
    writeFileSync(path, zipped.subarray(0, Math.floor(zipped.length / 2)));
    const error = await failure(path);
    expect(error.code).toBe('bad-gzip');
    expect(error.message).toContain('unexpected end of file');
    const { records, skipped } = await readAll(path, { onCorrupt: 'skip' });
    expect(records.length).toBeGreaterThan(200);
    expect(records.length).toBeLessThan(400);
    expect(skipped.map((e) => [e.code, e.recordIndex])).toEqual([['bad-gzip', records.length]]);
  });

  it('GZIP forced on an uncompressed file, and garbage that is not GZIP: errors, not silence', async () => {
    const plain = join(dir, 'good.tfrecord');
    expect(where(await failure(plain, { compression: 'gzip' }))).toEqual({ file: plain, recordIndex: 0, offset: 0, code: 'bad-gzip' });
    const garbage = join(dir, 'garbage.tfrecord');
    writeFileSync(garbage, Buffer.from('this is not a TFRecord file at all\n'));
    expect(where(await failure(garbage))).toEqual({ file: garbage, recordIndex: 0, offset: 0, code: 'length-crc' });
  });

  it('a missing file: an unreadable error naming it', async () => {
    const path = join(dir, 'missing.tfrecord');
    for (const compression of ['auto', 'none'] as const) {
      const error = await failure(path, { compression });
      expect(where(error)).toEqual({ file: path, recordIndex: 0, offset: 0, code: 'unreadable' });
      expect(error.message).toContain('ENOENT');
    }
  });

  it('readExamples: a payload that is not a tf.train.Example is named by record; skip mode passes it over', async () => {
    const path = join(dir, 'not-example.tfrecord');
    const writer = TfRecordWriter.open(path);
    await writer.write(new Uint8Array(0)); // an empty Example
    await writer.write(Buffer.from([0x0a, 0x05, 0x01])); // length 5, 1 byte there
    await writer.write(new Uint8Array(0));
    await writer.close();
    const read = async (options: TfRecordReadOptions = {}) => {
      const stream = readExamples(path, options);
      let n = 0;
      for await (const _ of stream) n++;
      return { n, stream };
    };
    await expect(read()).rejects.toThrow(new RegExp(`^${escapeRegExp(path)}: record 1 at byte 16: not a tf\\.train\\.Example: malformed`));
    const { n, stream } = await read({ onCorrupt: 'skip' });
    expect(n).toBe(2);
    expect(stream.records).toBe(2);
    expect(stream.skipped.map((e) => [e.recordIndex, e.offset, e.code])).toEqual([[1, 16, 'not-example']]);
  });
});
