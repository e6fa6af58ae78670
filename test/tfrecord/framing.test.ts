import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskedCrc32c } from '../../lib/checksum/index.js';
import {
  bytesFeature,
  countRecords,
  encodeExample,
  floatFeature,
  int64Feature,
  readExamples,
  readTfRecords,
  type TfRecordReadOptions,
  type TfRecordWriteOptions,
  TfRecordWriter,
} from '../../lib/tfrecord/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-tfr-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Read {
  data: Buffer[];
  index: number[];
  offset: number[];
}

async function collect(path: string, options: TfRecordReadOptions = {}): Promise<Read> {
  const read: Read = { data: [], index: [], offset: [] };
  for await (const record of readTfRecords(path, options)) {
    read.data.push(Buffer.from(record.data));
    read.index.push(record.index);
    read.offset.push(record.offset);
  }
  return read;
}

async function writeRecords(path: string, records: readonly Uint8Array[], options: TfRecordWriteOptions = {}): Promise<void> {
  const writer = TfRecordWriter.open(path, options);
  for (const r of records) await writer.write(r);
  await writer.close();
}

/** The framing spelled out: u64le length | u32le masked CRC(length) | data | u32le masked CRC(data). */
function frameByHand(data: Uint8Array): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(data.length));
  const crc = (bytes: Uint8Array): Buffer => {
    const out = Buffer.alloc(4);
    out.writeUInt32LE(maskedCrc32c(bytes));
    return out;
  };
  return Buffer.concat([length, crc(length), data, crc(data)]);
}

/** Records of many sizes: empty, tiny, around the writer's 64 KiB buffer, and larger than it many times over. */
const payloads: Buffer[] = [
  Buffer.from('first record'),
  Buffer.alloc(0),
  Buffer.from('third'),
  Buffer.alloc(3_000_000, 7),
  ...Array.from({ length: 200 }, (_, i) => Buffer.alloc(i * 37, i)),
  Buffer.alloc((1 << 16) - 16, 1),
  Buffer.alloc(1 << 16, 2),
  Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff)),
];
const offsetsOf = (records: readonly Uint8Array[]): number[] => {
  let at = 0;
  return records.map((r) => {
    const offset = at;
    at += 16 + r.length;
    return offset;
  });
};

describe('TFRecord writer and reader', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`round-trips records of every size, with index and offset (${compression})`, async () => {
      const path = join(dir, `rt-${compression}.tfrecord`);
      await writeRecords(path, payloads, { compression });
      // Small reads make records straddle chunk boundaries.
      for (const chunkSize of [1000, 1 << 20]) {
        const read = await collect(path, { chunkSize });
        expect(read.data.length).toBe(payloads.length);
        read.data.forEach((d, i) => {
          expect(d.equals(payloads[i]), `record ${i}`).toBe(true);
        });
        expect(read.index).toEqual(payloads.map((_, i) => i));
        expect(read.offset).toEqual(offsetsOf(payloads));
      }
    });
  }

  it('reads from a byte offset: the records from there on, with the file offsets; a GZIP file only from its start', async () => {
    const path = join(dir, 'rt-none.tfrecord');
    const offsets = offsetsOf(payloads);
    for (const from of [0, 3, 150, payloads.length - 1]) {
      const read = await collect(path, { start: offsets[from], chunkSize: 1000 });
      expect(read.data.length).toBe(payloads.length - from);
      read.data.forEach((d, i) => {
        expect(d.equals(payloads[from + i]), `record ${from + i}`).toBe(true);
      });
      expect(read.offset).toEqual(offsets.slice(from));
      expect(read.index).toEqual(offsets.slice(from).map((_, i) => i));
    }
    const end = offsets.at(-1)! + 16 + payloads.at(-1)!.length;
    expect((await collect(path, { start: end })).data).toEqual([]);
    await expect(collect(join(dir, 'rt-gzip.tfrecord'), { start: offsets[1] })).rejects.toThrow(
      /rt-gzip\.tfrecord: record 0 at byte 28: a GZIP file can only be read from its start/,
    );
  });

  it('writes exactly the TFRecord framing, and GZIP of exactly that', async () => {
    const records = [Buffer.from('first record'), Buffer.alloc(0), Buffer.alloc(70_000, 9)];
    const expected = Buffer.concat(records.map(frameByHand));
    await writeRecords(join(dir, 'exact.tfrecord'), records);
    expect(readFileSync(join(dir, 'exact.tfrecord')).equals(expected)).toBe(true);
    await writeRecords(join(dir, 'exact.tfrecord.gz'), records, { compression: 'gzip' });
    const zipped = readFileSync(join(dir, 'exact.tfrecord.gz'));
    expect([zipped[0], zipped[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(zipped).equals(expected)).toBe(true);
  });

  it('reads files framed by hand, GZIP made by zlib, and several concatenated GZIP members', async () => {
    const records = [Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc')];
    const raw = Buffer.concat(records.map(frameByHand));
    writeFileSync(join(dir, 'hand.tfrecord'), raw);
    writeFileSync(join(dir, 'hand.gz'), gzipSync(raw));
    writeFileSync(join(dir, 'members.gz'), Buffer.concat([gzipSync(raw.subarray(0, 20)), gzipSync(raw.subarray(20))]));
    for (const name of ['hand.tfrecord', 'hand.gz', 'members.gz']) expect((await collect(join(dir, name))).data.map(String), name).toEqual(['a', 'bb', 'ccc']);
  });

  it('auto-detection: an uncompressed file whose first length starts 1f 8b is not taken for GZIP', async () => {
    const record = Buffer.alloc(0x8b1f, 3); // length bytes 1f 8b 00 …
    const path = join(dir, 'looks-gzipped.tfrecord');
    await writeRecords(path, [record]);
    expect([...readFileSync(path).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect((await collect(path)).data[0].equals(record)).toBe(true);
    expect((await collect(path, { compression: 'none' })).data).toHaveLength(1);
  });

  for (const compression of ['none', 'gzip'] as const) {
    it(`zero records: a valid empty file that reads as zero records (${compression})`, async () => {
      const path = join(dir, `empty-${compression}.tfrecord`);
      await writeRecords(path, [], { compression });
      if (compression === 'none') expect(readFileSync(path).length).toBe(0);
      else expect(gunzipSync(readFileSync(path)).length).toBe(0);
      expect((await collect(path)).data).toEqual([]);
      expect(await countRecords(path)).toBe(0);
    });
  }

  it('writes not awaited one by one still land in call order', async () => {
    const path = join(dir, 'unawaited.tfrecord');
    const writer = TfRecordWriter.open(path, { bufferSize: 100 });
    const records = Array.from({ length: 500 }, (_, i) => Buffer.from(`record ${i} `.repeat(i % 7)));
    await Promise.all(records.map((r) => writer.write(r)));
    await writer.close();
    expect((await collect(path)).data).toEqual(records);
    expect(writer.records).toBe(500);
  });

  it('a caller may reuse its buffer as soon as write() returns', async () => {
    const path = join(dir, 'reuse.tfrecord');
    const writer = TfRecordWriter.open(path, { compression: 'gzip', bufferSize: 64 });
    const scratch = Buffer.alloc(100);
    for (let i = 0; i < 50; i++) {
      scratch.fill(i);
      await writer.write(scratch);
    }
    await writer.close();
    expect((await collect(path)).data.map((d) => d[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('readExamples and countRecords; the stream counts its records and can be read again', async () => {
    const path = join(dir, 'examples.tfrecord');
    const examples = [
      new Map([
        ['k', int64Feature([5])],
        ['w', floatFeature([0.5])],
      ]),
      new Map([
        ['k', int64Feature([6])],
        ['t', bytesFeature(['x'])],
      ]),
    ];
    await writeRecords(path, examples.map(encodeExample));
    const stream = readExamples(path);
    for (let pass = 0; pass < 2; pass++) {
      const read = [];
      for await (const example of stream) read.push(example);
      expect(read).toEqual(examples);
      expect(stream.records).toBe(2);
      expect(stream.skipped).toEqual([]);
    }
    expect(await countRecords(path)).toBe(2);
  });

  // Open files are counted through Linux's /proc/self/fd; elsewhere (macOS, Windows) this one test is skipped.
  it.skipIf(!existsSync('/proc/self/fd'))('stopping early closes the file (counts open files via /proc/self/fd, Linux only)', async () => {
    const path = join(dir, 'early.tfrecord');
    await writeRecords(path, payloads.slice(0, 3));
    const open = (): number => readdirSync('/proc/self/fd').length;
    const before = open();
    for (const compression of ['none', 'gzip'] as const) {
      if (compression === 'gzip') await writeRecords(path, payloads.slice(0, 3), { compression });
      for await (const record of readTfRecords(path)) {
        expect(record.index).toBe(0);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(open()).toBe(before);
    }
  });
});

describe('TfRecordWriter: temporary name, then rename', () => {
  const leftovers = (name: string): string[] => readdirSync(dir).filter((f) => f.includes(name));

  it('the final name appears only on close(); the temporary one is hidden beside it', async () => {
    const path = join(dir, 'atomic.tfrecord');
    const writer = TfRecordWriter.open(path);
    // Two records bigger than the buffer: the first is handed to the stream, so the file is open.
    await writer.write(Buffer.alloc(200_000, 1));
    await writer.write(Buffer.alloc(200_000, 2));
    expect(existsSync(path)).toBe(false);
    expect(leftovers('atomic')).toEqual([writer.tempPath.slice(dir.length + 1)]);
    expect(writer.tempPath.startsWith(join(dir, '.atomic.tfrecord.tmp-'))).toBe(true);
    await writer.close();
    expect(leftovers('atomic')).toEqual(['atomic.tfrecord']);
    await writer.close(); // a second close is a no-op
    await writer.abort(); // and an abort after close takes nothing back
    expect((await collect(path)).data).toHaveLength(2);
    await expect(writer.write(Buffer.from('late'))).rejects.toThrow(`${path}: write after close`);
  });

  it('a file whose records fit in the buffer is created only at close(), in one go', async () => {
    const path = join(dir, 'lazy.tfrecord');
    const writer = TfRecordWriter.open(path);
    await writer.write(Buffer.from('small'));
    expect(leftovers('lazy')).toEqual([]);
    await writer.close();
    expect(leftovers('lazy')).toEqual(['lazy.tfrecord']);
    expect((await collect(path)).data.map((d) => Buffer.from(d).toString())).toEqual(['small']);
  });

  for (const compression of ['none', 'gzip'] as const) {
    it(`abort() leaves nothing behind (${compression})`, async () => {
      const name = `aborted-${compression}`;
      const writer = TfRecordWriter.open(join(dir, `${name}.tfrecord`), { compression });
      await writer.write(Buffer.alloc(300_000, 2));
      await writer.write(Buffer.from('y'));
      await writer.abort();
      await writer.abort();
      expect(leftovers(name)).toEqual([]);
      await expect(writer.write(Buffer.from('z'))).rejects.toThrow('write after abort');
      await expect(writer.close()).rejects.toThrow('close after abort');
      expect(leftovers(name)).toEqual([]);
    });
  }

  it('a folder that does not exist: write or close fails naming the file, and the process lives on', async () => {
    const path = join(dir, 'no-such-folder', 'x.tfrecord');
    const writer = TfRecordWriter.open(path);
    await writer.write(Buffer.from('x'));
    await expect(writer.close()).rejects.toThrow(`${path}: writing ${writer.tempPath} failed (ENOENT`);
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });
});

describe('the hand-written Example encoder against @bufbuild/protobuf BinaryWriter', () => {
  /** The same deterministic encoding built with the library's writer: an independent reference. */
  async function libraryEncoding(example: Map<string, ReturnType<typeof int64Feature>>): Promise<Uint8Array> {
    const { BinaryWriter, WireType } = await import('@bufbuild/protobuf/wire');
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).fork();
    for (const key of [...example.keys()].sort()) {
      const f = example.get(key)!;
      w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key).tag(2, WireType.LengthDelimited).fork();
      if (f.kind === 'int64List' || f.kind === 'floatList') {
        w.tag(f.kind === 'int64List' ? 3 : 2, WireType.LengthDelimited).fork();
        if (f.value.length > 0) {
          w.tag(1, WireType.LengthDelimited).fork();
          for (const v of f.value) f.kind === 'int64List' ? w.int64(v as number | bigint) : w.float(v as number);
          w.join();
        }
        w.join();
      } else if (f.kind === 'bytesList') {
        w.tag(1, WireType.LengthDelimited).fork();
        for (const v of f.value) w.tag(1, WireType.LengthDelimited).bytes(v);
        w.join();
      }
      w.join().join();
    }
    return w.join().finish();
  }

  it('writes the same bytes for every kind of value', async () => {
    const example = new Map([
      ['input_ids', int64Feature(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 40000))],
      ['negative', int64Feature([-1, -(2 ** 40), 0, 2 ** 31, 2 ** 53 - 1])],
      ['huge', int64Feature([2n ** 63n - 1n, -(2n ** 63n)])],
      ['weights', floatFeature([1, 0, 0.1, -3.5])],
      ['empty_ints', int64Feature([])],
      ['empty_floats', floatFeature([])],
      ['text', bytesFeature(['한국어', '', 'x'.repeat(300)])],
      ['no_bytes', bytesFeature([])],
      ['long_key_'.repeat(20), int64Feature([1])],
    ]);
    expect(Buffer.from(encodeExample(example)).toString('hex')).toBe(Buffer.from(await libraryEncoding(example)).toString('hex'));
  });
});
