import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesFeature,
  decodeExample,
  encodeExample,
  floatFeature,
  int64Feature,
  maskedCrc32c,
  readExamples,
  readTfRecords,
  TfRecordError,
  TfRecordWriter,
} from '../../lib/tfrecord/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-tfr-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function collect(path: string, options = {}): Promise<{ data: Buffer[]; skipped: TfRecordError[] }> {
  const stream = readTfRecords(path, options);
  const data: Buffer[] = [];
  for await (const record of stream) data.push(Buffer.from(record.data));
  return { data, skipped: stream.skipped };
}

async function writeRecords(path: string, records: Uint8Array[], compression: 'none' | 'gzip' = 'none'): Promise<void> {
  const writer = TfRecordWriter.open(path, { compression });
  for (const r of records) await writer.write(r);
  await writer.close();
}

const payloads = [Buffer.from('first record'), Buffer.alloc(0), Buffer.from('third'), Buffer.alloc(3_000_000, 7)];

describe('masked CRC-32C', () => {
  it('matches the CRC-32C check value and the TFRecord mask, computed by hand', () => {
    // CRC-32C("123456789") = 0xE3069283 (the standard check value); mask = rotr15 + 0xA282EAD8.
    const crc = 0xe3069283;
    const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe(masked);
  });
});

describe('tf.train.Example codec', () => {
  it('encodes a known example byte for byte', () => {
    // Example{features{feature{key:"a" value{int64_list{value:[1]}}}}}, worked out from the .proto by hand.
    const bytes = encodeExample(new Map([['a', int64Feature([1])]]));
    expect(Buffer.from(bytes).toString('hex')).toBe('0a0c0a0a0a01611205' + '1a030a0101');
  });

  it('decodes unpacked repeated numbers (legal protobuf) and skips unknown fields', () => {
    // Feature{int64_list{value:1 value:300}} written unpacked, plus an unknown field 9 in Example.
    const feature = Buffer.from([0x1a, 0x05, 0x08, 0x01, 0x08, 0xac, 0x02]);
    const entry = Buffer.concat([Buffer.from([0x0a, 0x01, 0x78, 0x12, feature.length]), feature]);
    const features = Buffer.concat([Buffer.from([0x0a, entry.length]), entry]);
    const example = Buffer.concat([Buffer.from([0x48, 0x05, 0x0a, features.length]), features]);
    expect(decodeExample(example).get('x')).toEqual({ kind: 'int64List', value: [1, 300] });
  });

  it('keeps int64 values beyond 2^53 exact and sorts keys on encode', () => {
    const big = 2n ** 62n + 1n;
    const example = new Map([
      ['z', int64Feature([-1, 2 ** 40, big])],
      ['a', floatFeature([0.1, -2.5])],
      ['m', bytesFeature(['한국어', new Uint8Array([0, 255])])],
    ]);
    const decoded = decodeExample(encodeExample(example));
    expect([...decoded.keys()]).toEqual(['a', 'm', 'z']);
    expect(decoded.get('z')).toEqual({ kind: 'int64List', value: [-1, 2 ** 40, big] });
    expect(Array.from((decoded.get('a') as { value: Float32Array }).value)).toEqual([Math.fround(0.1), -2.5]);
    expect(new TextDecoder().decode((decoded.get('m') as unknown as { value: Uint8Array[] }).value[0])).toBe('한국어');
  });
});

describe('TFRecord writer and reader', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`round-trips records of every size (${compression})`, async () => {
      const path = join(dir, `rt-${compression}.tfrecord`);
      await writeRecords(path, payloads, compression);
      const { data, skipped } = await collect(path, { chunkSize: 1000 });
      expect(data.map((d) => d.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
      expect(skipped).toEqual([]);
    });
  }

  it('writes an empty file for zero records, and reads it as zero records', async () => {
    const path = join(dir, 'empty.tfrecord');
    await writeRecords(path, []);
    expect(readFileSync(path).length).toBe(0);
    expect((await collect(path)).data).toEqual([]);
  });

  it('writes under a temporary name and renames on close; abort leaves nothing', async () => {
    const path = join(dir, 'atomic.tfrecord');
    const writer = TfRecordWriter.open(path);
    await writer.write(Buffer.from('x'));
    expect(existsSync(path)).toBe(false);
    await writer.close();
    expect(existsSync(path)).toBe(true);

    const aborted = join(dir, 'aborted.tfrecord');
    const second = TfRecordWriter.open(aborted);
    await second.write(Buffer.from('y'));
    await second.abort();
    expect(existsSync(aborted)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('aborted'))).toEqual([]);
  });

  it('readExamples decodes every record', async () => {
    const path = join(dir, 'examples.tfrecord');
    await writeRecords(path, [encodeExample(new Map([['k', int64Feature([5])]])), encodeExample(new Map([['k', int64Feature([6])]]))]);
    const values: unknown[] = [];
    for await (const example of readExamples(path)) values.push(example.get('k'));
    expect(values).toEqual([int64Feature([5]), int64Feature([6])]);
  });
});

describe('corrupt TFRecord files', () => {
  const good = (): Buffer => {
    const path = join(dir, 'good.tfrecord');
    return readFileSync(path);
  };
  beforeAll(() => writeRecords(join(dir, 'good.tfrecord'), [Buffer.from('aaaa'), Buffer.from('bbbbbb'), Buffer.from('cc')]));
  // Record layout: 12-byte header + payload + 4-byte checksum → records at 0, 20, 42; file is 60 bytes.

  it('a flipped payload byte: error names file, record and offset; skip mode drops just that record', async () => {
    const bytes = good();
    bytes[20 + 12 + 2] ^= 0xff;
    const path = join(dir, 'bad-data.tfrecord');
    writeFileSync(path, bytes);
    await expect(collect(path)).rejects.toThrow(`${path}: record 1 at byte 20: payload checksum mismatch`);
    const { data, skipped } = await collect(path, { onCorrupt: 'skip' });
    expect(data.map(String)).toEqual(['aaaa', 'cc']);
    expect(skipped.map((e) => [e.recordIndex, e.offset])).toEqual([[1, 20]]);
  });

  it('a flipped length byte: length checksum error; skip mode keeps what came before and stops', async () => {
    const bytes = good();
    bytes[42] ^= 0x01;
    const path = join(dir, 'bad-length.tfrecord');
    writeFileSync(path, bytes);
    await expect(collect(path)).rejects.toThrow(/record 2 at byte 42: length checksum mismatch/);
    const { data, skipped } = await collect(path, { onCorrupt: 'skip' });
    expect(data.map(String)).toEqual(['aaaa', 'bbbbbb']);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toBeInstanceOf(TfRecordError);
  });

  it('a file cut inside a header or inside a payload: truncated, with the offset', async () => {
    const cutHeader = join(dir, 'cut-header.tfrecord');
    writeFileSync(cutHeader, good().subarray(0, 25));
    await expect(collect(cutHeader)).rejects.toThrow(/record 1 at byte 20: truncated record header: expected 12 bytes, found 5/);
    const cutData = join(dir, 'cut-data.tfrecord');
    writeFileSync(cutData, good().subarray(0, 55));
    await expect(collect(cutData)).rejects.toThrow(/record 2 at byte 42: truncated record: header says 2 payload bytes plus a 4-byte checksum, only 1 bytes left/);
    expect((await collect(cutData, { onCorrupt: 'skip' })).data.map(String)).toEqual(['aaaa', 'bbbbbb']);
  });

  it('checksums can be left unverified on request', async () => {
    const bytes = good();
    bytes[20 + 12 + 2] ^= 0xff;
    const path = join(dir, 'unverified.tfrecord');
    writeFileSync(path, bytes);
    expect((await collect(path, { verifyChecksums: false })).data).toHaveLength(3);
  });

  it('a broken GZIP stream is an error naming the file', async () => {
    const zipped = gzipSync(good());
    const path = join(dir, 'broken.tfrecord.gz');
    writeFileSync(path, Buffer.concat([zipped.subarray(0, 10), Buffer.alloc(20, 0x55)]));
    await expect(collect(path)).rejects.toThrow(new RegExp(`${path.replace(/[.]/g, '\\.')}: record 0 at byte 0: GZIP stream could not be read`));
  });

  it('a payload that is not a tf.train.Example is named by record', async () => {
    const path = join(dir, 'not-example.tfrecord');
    await writeRecords(path, [Buffer.from([0x0a, 0x05, 0x01])]);
    const read = async (): Promise<void> => {
      for await (const _ of readExamples(path)) void _;
    };
    await expect(read()).rejects.toThrow(/record 0 at byte 0: not a tf\.train\.Example/);
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
