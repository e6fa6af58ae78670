import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CorpusError, readTxtLines, txtLines } from '../../lib/corpus/index.js';
import { collect, put, useTempDir } from './support.js';

describe('readTxtLines / txtLines: Python text-mode lines', () => {
  const tmp = useTempDir();
  let n = 0;
  const lines = async (content: string | Buffer, chunkSize?: number): Promise<string[]> =>
    (await collect(txtLines(put(tmp(), `lines-${n++}.txt`, content), { chunkSize }))).map((l) => l.text);

  it('universal newlines: \\n, \\r\\n and a lone \\r end lines; U+2028, U+0085, \\v, \\f and \\x1c do not — at every chunk size', async () => {
    const text = '\ufeff첫째\r\n둘째\r셋째\n\n넷째\u2028같은 줄\u0085도\r\n\v\f\x1c\x1d\x1e 다섯\r\r\n여섯\u2029끝';
    const expected = ['\ufeff첫째', '둘째', '셋째', '', '넷째\u2028같은 줄\u0085도', '\v\f\x1c\x1d\x1e 다섯', '', '여섯\u2029끝'];
    for (const chunkSize of [1, 2, 3, 4, 5, 6, 7, 11, 64, undefined]) expect(await lines(text, chunkSize), `chunk ${chunkSize}`).toEqual(expected);
  });

  it('onRead counts the bytes read, chunk by chunk, up to the file size, a final line break and a split character included', async () => {
    const path = put(tmp(), `lines-${n++}.txt`, '첫째 줄\n둘째 줄\r\n\n셋째 😀\n');
    for (const chunkSize of [1, 2, 5, 64, undefined]) {
      const reads: number[] = [];
      await collect(readTxtLines(path, { chunkSize, onRead: (bytes) => reads.push(bytes) }));
      expect(
        reads.reduce((a, b) => a + b, 0),
        `chunk ${chunkSize}`,
      ).toBe(statSync(path).size);
      if (chunkSize) expect(Math.max(...reads)).toBeLessThanOrEqual(chunkSize);
    }
  });

  it('a \\r at the end of one chunk and \\n at the start of the next are one line ending', async () => {
    expect(await lines('ab\r\ncd', 3)).toEqual(['ab', 'cd']); // chunks 'ab\r' | '\ncd'
    expect(await lines('ab\r\r\ncd', 3)).toEqual(['ab', '', 'cd']); // 'ab\r' | '\r\nc' | 'd'
    expect(await lines('ab\r\n\ncd', 3)).toEqual(['ab', '', 'cd']);
    expect(await lines('a\r', 1)).toEqual(['a']);
    expect(await lines('a\r\n', 2)).toEqual(['a']);
  });

  it('multi-byte UTF-8 split across chunks still decodes; a BOM is kept, at the start and elsewhere', async () => {
    const text = '\ufeff한국어 😀 텍스트\n\ufeff가운데 BOM 𝌆\n마지막 줄은 줄바꿈 없음';
    const expected = ['\ufeff한국어 😀 텍스트', '\ufeff가운데 BOM 𝌆', '마지막 줄은 줄바꿈 없음'];
    for (const chunkSize of [1, 2, 3, 5, 7, 13]) expect(await lines(text, chunkSize)).toEqual(expected);
  });

  it('empty files and trailing newlines: no phantom last line', async () => {
    expect(await lines('', 1)).toEqual([]);
    expect(await lines('\n', 1)).toEqual(['']);
    expect(await lines('a\n', 1)).toEqual(['a']);
    expect(await lines('a\n\n', 1)).toEqual(['a', '']);
    expect(await lines('a', 1)).toEqual(['a']);
  });

  it('numbers lines from 1 across batches', async () => {
    const path = put(tmp(), 'numbered.txt', Array.from({ length: 1000 }, (_, i) => `줄 ${i + 1}`).join('\r\n'));
    const all = await collect(txtLines(path, { chunkSize: 100 }));
    expect(all.length).toBe(1000);
    for (const l of all) expect(l.text).toBe(`줄 ${l.line}`);
  });

  it('invalid UTF-8 is a CorpusError naming the file, the 1-based line and the byte offset of the first bad byte', async () => {
    const bad = Buffer.concat([Buffer.from('첫 줄\n둘째 줄\n셋'), Buffer.from([0xff]), Buffer.from('째\n')]);
    const path = put(tmp(), 'bad.txt', bad);
    for (const chunkSize of [1, 2, 5, 21, 22, 23, 1 << 20]) {
      const error = await collect(readTxtLines(path, { chunkSize })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorpusError);
      expect((error as CorpusError).message).toBe(`${path} (line 3, byte 22): invalid UTF-8 (byte 0xff)`);
      expect([(error as CorpusError).file, (error as CorpusError).line, (error as CorpusError).byteOffset]).toEqual([path, 3, 22]);
    }
  });

  it('line numbers of bad bytes count \\r\\n once, also when split across chunks', async () => {
    const path = put(tmp(), 'crlf-bad.txt', Buffer.concat([Buffer.from('a\r\nb\r'), Buffer.from('\n'), Buffer.from([0xc0, 0xaf])]));
    for (const chunkSize of [1, 2, 3, 4, 5, 64]) {
      await expect(collect(readTxtLines(path, { chunkSize })), `chunk ${chunkSize}`).rejects.toThrow(`${path} (line 3, byte 6): invalid UTF-8 (byte 0xc0)`);
    }
  });

  it('overlong forms, surrogates, code points over U+10FFFF, stray continuation bytes and a file cut inside a character are errors', async () => {
    const cases: [number[], number][] = [
      [[0x61, 0xc0, 0xaf], 1], // overlong '/'
      [[0x61, 0xed, 0xa0, 0x80], 1], // U+D800
      [[0x61, 0xf4, 0x90, 0x80, 0x80], 1], // U+110000
      [[0x61, 0x80], 1], // continuation without a lead
      [[0x61, 0xe0, 0x80, 0x80], 1], // overlong 3-byte
    ];
    for (const [bytes, offset] of cases) {
      const path = put(tmp(), `bad-${n++}.txt`, Buffer.from(bytes));
      for (const chunkSize of [1, 64])
        await expect(collect(readTxtLines(path, { chunkSize }))).rejects.toThrow(`${path} (line 1, byte ${offset}): invalid UTF-8`);
    }
    const cut = put(tmp(), 'cut.txt', Buffer.from('가\n나').subarray(0, 6));
    await expect(collect(readTxtLines(cut, { chunkSize: 2 }))).rejects.toThrow(
      `${cut} (line 2, byte 4): invalid UTF-8: the file ends inside a character (2 of its 3 bytes)`,
    );
  });

  it('a missing file is a CorpusError that says so in one line', async () => {
    await expect(collect(readTxtLines(`${tmp()}/none.txt`))).rejects.toThrow(new CorpusError(`${tmp()}/none.txt`, 'not found'));
  });

  it('streams a ~10 MB file in bounded batches (never the whole file at once)', async () => {
    const line = '한국어 문장 하나가 여기에 있습니다. English too.\n';
    const count = 200_000;
    const path = put(tmp(), 'large.txt', line.repeat(count));
    expect(statSync(path).size).toBeGreaterThan(10_000_000);
    let total = 0;
    let batches = 0;
    let largestBatch = 0;
    let last = '';
    for await (const batch of readTxtLines(path, { chunkSize: 1 << 16 })) {
      expect(batch.firstLine).toBe(total + 1);
      total += batch.lines.length;
      batches++;
      largestBatch = Math.max(largestBatch, batch.lines.length);
      last = batch.lines.at(-1) ?? last;
    }
    expect(total).toBe(count);
    expect(last).toBe(line.slice(0, -1));
    expect(batches).toBeGreaterThan(100); // one batch per 64 KiB read
    expect(largestBatch).toBeLessThan(2000);
  });
});
