import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CorpusError, koLmRecordBatches, koLmRecords, MAX_LINE_BYTES, readCorpusFile, streamData } from '../../lib/corpus/index.js';
import { expectReadOrRefused, fuzzParameters, HOSTILE_NAMES, mutated, mutatedJson } from '../helpers/fuzz.js';
import { collect, jsonl, paxBody, put, tar, useTempDir, zst } from './support.js';

const DOCS = [
  { text: '첫 문서의 문장입니다. 두 번째 문장.', meta: { source: 'a', id: 1 } },
  { text: ['목록으로 된', '문장들', ''], meta: {} },
  { text: 'NaN 이 아닌 글', meta: { score: 1.5, tags: ['x', 'y'] } },
  { text: { 키: 1, 둘: 2 } },
];

/**
 * A ko_lm_dataformat frame made by hand: a raw block with `head`, then `blocks` RLE blocks of 128 KiB
 * of `byte` each (4 bytes apiece), then a raw block with `tail` — a few KB that decompress to as much
 * as wanted, as a decompression bomb does.
 */
function bombFrame(head: string, byte: number, blocks: number, tail: string): Buffer {
  const block = (type: number, size: number, last: boolean): Buffer => {
    const header = (size << 3) | (type << 1) | (last ? 1 : 0);
    return Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]);
  };
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3])]; // no checksum, 128 KiB window
  parts.push(block(0, head.length, false), Buffer.from(head));
  for (let k = 0; k < blocks; k++) parts.push(block(1, 128 * 1024, false), Buffer.from([byte]));
  parts.push(block(0, tail.length, true), Buffer.from(tail));
  return Buffer.concat(parts);
}

describe('fuzzed ko_lm_dataformat archives (.jsonl.zst, .jsonl.zst.tar)', () => {
  const tmp = useTempDir();
  let valid: Buffer;
  let validTar: Buffer;
  beforeAll(() => {
    // Two frames, as an archive written in two sessions has.
    valid = Buffer.concat([zst(jsonl(...DOCS.slice(0, 2))), zst(jsonl(...DOCS.slice(2)))]);
    validTar = tar([
      { name: 'PaxHeader', data: paxBody({ path: 'data/long-name.jsonl.zst' }), type: 'x' },
      { name: 'a.jsonl.zst', data: valid },
      { name: 'dir', data: new Uint8Array(0), type: '5' },
      { name: 'b.jsonl.zst', data: zst(jsonl(DOCS[0])) },
    ]);
  });

  /** Reads `file` every way kbb does: records, stream_data with joined sentences, the builder's sentences. */
  const readAll = async (file: string): Promise<void> => {
    await collect(koLmRecords(file, { chunkSize: 97, maxLineBytes: 4096 }));
    await collect(streamData(file, { getMeta: true, autojoinSentences: true }));
    if (file.endsWith('.jsonl.zst')) await collect(readCorpusFile(file, { chunkSize: 61 }));
  };

  it('.jsonl.zst with byte mutations (corrupt frames, headers, block sizes, truncation)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (input) => {
        const file = join(tmp(), `bytes-${n++}.jsonl.zst`);
        writeFileSync(file, input.bytes);
        await expectReadOrRefused(file, () => readAll(file), input.mutations);
      }),
      fuzzParameters(),
    );
  });

  it('.jsonl.zst with well-compressed bad content (JSON mutations, wrong types, invalid UTF-8, bad lines)', async () => {
    let n = 0;
    const line = fc.oneof(
      mutatedJson(DOCS[n % DOCS.length]).map((doc) => Buffer.from(`${JSON.stringify(doc) ?? 'undefined'}\n`)),
      mutated(Buffer.from(jsonl(...DOCS))).map((m) => Buffer.from(m.bytes)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 4 }), async (lines) => {
        const file = join(tmp(), `content-${n++}.jsonl.zst`);
        writeFileSync(file, zst(Buffer.concat(lines)));
        await expectReadOrRefused(
          file,
          () => readAll(file),
          lines.map((l) => l.toString('latin1')),
        );
      }),
      fuzzParameters(),
    );
  });

  it('.jsonl.zst.tar with byte mutations (bad headers, sizes, pax records, truncation)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(validTar), async (input) => {
        const file = join(tmp(), `tar-${n++}.jsonl.zst.tar`);
        writeFileSync(file, input.bytes);
        await expectReadOrRefused(file, () => readAll(file), input.mutations);
      }),
      fuzzParameters(),
    );
  });

  it('tar member names are labels only: hostile names are read as members and nothing is created from them', async () => {
    const dir = join(tmp(), 'hostile-tar');
    const members = HOSTILE_NAMES.filter((name) => name !== '').map((name, k) => ({ name, data: zst(jsonl({ text: `member ${k}` })) }));
    const file = put(dir, 'archive.jsonl.zst.tar', tar(members));
    const records = await collect(koLmRecords(file));
    // A tar name field ends at its first NUL, as every tar reader reads it.
    expect(records.map((r) => [r.member, r.text])).toEqual(members.map((m, k) => [m.name.replace(/\0.*$/s, ''), `member ${k}`]));
    for (const name of HOSTILE_NAMES) if (name.includes('outside')) expect(existsSync(join(dir, name)), name).toBe(false);
    // A member name with a newline is quoted in errors, so that each error stays one line.
    const bad = put(dir, 'bad.jsonl.zst.tar', tar([{ name: 'a\nb', data: zst('not json\n') }]));
    const error = await collect(koLmRecords(bad)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorpusError);
    expect((error as Error).message).toMatch(new RegExp(`^${bad}:"a\\\\nb" \\(line 1, decompressed byte 0\\): invalid JSON`));
  });

  it('a pax header declaring more than the archive holds is refused before anything is allocated for it', async () => {
    const header = tar([{ name: 'PaxHeader', data: paxBody({ path: 'x' }), type: 'x' }], false);
    header.write(`${(0o77777777777).toString(8)}\0`, 124, 'latin1'); // 8 GiB
    const file = put(tmp(), 'pax-size.jsonl.zst.tar', Buffer.concat([header, Buffer.alloc(1024)]));
    await expect(collect(koLmRecords(file))).rejects.toThrow(`${file} (byte 0): pax header declares 8589934591 bytes (at most 1048576 are read)`);
  });

  it('a 17 KB .jsonl.zst expanding to one 560 MB line is refused at the line limit, naming file, line and limit, in bounded memory', async () => {
    const blocks = Math.ceil((560 * 2 ** 20) / (128 * 1024));
    const file = put(tmp(), 'bomb.jsonl.zst', Buffer.concat([zst(jsonl({ text: 'ok' })), bombFrame('{"text": "', 0x61, blocks, '"}\n')]));
    expect(Buffer.byteLength(bombFrame('{"text": "', 0x61, blocks, '"}\n'))).toBeLessThan(20_000);
    const before = process.memoryUsage().rss;
    let peak = before;
    const started = performance.now();
    const texts: unknown[] = [];
    let failure: unknown;
    try {
      for await (const batch of streamData(file, { onRead: () => (peak = Math.max(peak, process.memoryUsage().rss)) })) texts.push(batch);
    } catch (error) {
      failure = error;
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(texts).toEqual(['ok']);
    expect(failure).toBeInstanceOf(CorpusError);
    expect((failure as Error).message).toBe(
      `${file} (line 2, decompressed byte 14): a line longer than 64 MiB (kbb's limit on one line or document, MAX_LINE_BYTES); split the document or check that the file is what it should be`,
    );
    // Decompression stopped at the limit (64 MiB of 560), and what was held is about the limit, not the bomb.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(peak - before).toBeLessThan(2 * MAX_LINE_BYTES + 128 * 2 ** 20);
  });

  it('many small documents that decompress a thousandfold come out in batches of about a MiB, not all at once', async () => {
    const doc = '{"text": "a"}\n';
    const frame = zst(doc.repeat(200_000)); // 2.8 MB of lines in a few KB
    const file = put(tmp(), 'many.jsonl.zst', frame);
    expect(frame.length).toBeLessThan(10_000);
    let batches = 0;
    let records = 0;
    let largest = 0;
    for await (const batch of koLmRecordBatches(file)) {
      batches++;
      records += batch.length;
      largest = Math.max(largest, batch.length);
    }
    expect(records).toBe(200_000);
    // One batch per MiB of decompressed data (or per chunk read): never the whole file's records at once.
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(largest * doc.length).toBeLessThan(2 * 2 ** 20);
  });
});
