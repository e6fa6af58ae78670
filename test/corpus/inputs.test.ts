import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { compress, init } from '@bokuweb/zstd-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorpusError, corpusStats, findCorpusFiles, readCorpusFile, readTxtLines, streamData, txtLines } from '../../lib/corpus/index.js';
import { isPythonWhitespace, pyStrip } from '../../lib/text/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-corpus-'));
  await init();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const zst = (text: string): Buffer => Buffer.from(compress(Buffer.from(text), 3));
const jsonl = (...docs: unknown[]): string => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';

describe('Python str.strip()', () => {
  it('strips exactly the characters Python treats as whitespace', () => {
    const pythonSpace = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2005, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];
    for (const c of pythonSpace) {
      expect(isPythonWhitespace(c)).toBe(true);
      expect(pyStrip(`${String.fromCharCode(c)}가${String.fromCharCode(c)}`)).toBe('가');
    }
    for (const c of [0xfeff, 0x200b, 0x180e, 0x00ad]) expect(pyStrip(`${String.fromCharCode(c)}가`)).toBe(`${String.fromCharCode(c)}가`);
  });
});

describe('corpus discovery', () => {
  it('recursive, hidden files included, other extensions ignored, one code-point sort', async () => {
    const root = join(dir, 'discover');
    mkdirSync(join(root, 'Sub', '.hidden-dir'), { recursive: true });
    for (const name of ['b.txt', 'A.txt', '.dot.txt', 'notes.md', 'x.jsonl.zst', 'Sub/c.txt', 'Sub/.hidden-dir/d.txt', '\u{ff21}.txt', '\u{1f600}.txt', 'y.jsonl']) {
      writeFileSync(join(root, name), 'x\n');
    }
    const files = (await findCorpusFiles(root)).map((f) => relative(root, f));
    // Code-point order puts U+FF21 before U+1F600; UTF-16 order would not.
    expect(files).toEqual(['.dot.txt', 'A.txt', 'Sub/.hidden-dir/d.txt', 'Sub/c.txt', 'b.txt', 'x.jsonl.zst', '\u{ff21}.txt', '\u{1f600}.txt']);
  });

  it('does not descend into symbolic links to folders (no cycles), lists links to files', async () => {
    const root = join(dir, 'links');
    mkdirSync(join(root, 'real'), { recursive: true });
    writeFileSync(join(root, 'real', 'a.txt'), 'x\n');
    symlinkSync(join(root, 'real'), join(root, 'loop'));
    symlinkSync(join(root, 'real', 'a.txt'), join(root, 'link.txt'));
    expect((await findCorpusFiles(root)).map((f) => relative(root, f))).toEqual(['link.txt', 'real/a.txt']);
  });

  it('an empty folder, or a missing one, is a clear error', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'readme.md'), '');
    await expect(findCorpusFiles(empty)).rejects.toThrow(`${empty}: no corpus files found (looked recursively for *.txt and *.jsonl.zst)`);
    await expect(findCorpusFiles(join(dir, 'missing'))).rejects.toThrow(/corpus folder not found/);
  });
});

describe('.txt lines', () => {
  const lines = async (bytes: Buffer | string, chunkSize: number): Promise<string[]> => {
    const path = join(dir, `lines-${chunkSize}.txt`);
    writeFileSync(path, bytes);
    return (await collect(txtLines(path, { chunkSize }))).map((l) => l.text);
  };

  it('universal newlines, whatever the chunk boundaries (including a \\r\\n split across chunks)', async () => {
    const text = '\ufeff첫째\r\n둘째\r셋째\n\n넷째\u2028같은 줄\u0085도\r\n';
    const expected = ['\ufeff첫째', '둘째', '셋째', '', '넷째\u2028같은 줄\u0085도'];
    for (const chunkSize of [1, 2, 3, 4, 5, 7, 64]) expect(await lines(text, chunkSize)).toEqual(expected);
    expect(await lines('a\nb', 1)).toEqual(['a', 'b']);
    expect(await lines('a\r', 1)).toEqual(['a']);
    expect(await lines('', 1)).toEqual([]);
  });

  it('numbers lines from 1 across batches', async () => {
    const path = join(dir, 'numbered.txt');
    writeFileSync(path, Array.from({ length: 1000 }, (_, i) => `줄 ${i + 1}`).join('\n'));
    const all = await collect(txtLines(path, { chunkSize: 100 }));
    expect(all.length).toBe(1000);
    all.forEach((l) => expect(l.text).toBe(`줄 ${l.line}`));
  });

  it('invalid UTF-8: names the file, the line and the byte offset', async () => {
    const path = join(dir, 'bad.txt');
    writeFileSync(path, Buffer.concat([Buffer.from('첫 줄\n둘째 줄\n셋'), Buffer.from([0xff]), Buffer.from('째\n')]));
    for (const chunkSize of [1, 5, 1 << 20]) {
      await expect(collect(readTxtLines(path, { chunkSize }))).rejects.toThrow(`${path} (line 3, byte 22): invalid UTF-8 (byte 0xff)`);
    }
    const cut = join(dir, 'cut.txt');
    writeFileSync(cut, Buffer.from('가나').subarray(0, 4));
    await expect(collect(readTxtLines(cut))).rejects.toThrow(/line 1, byte 3\): invalid UTF-8: the file ends inside a 1-byte sequence/);
    const surrogate = join(dir, 'surrogate.txt');
    writeFileSync(surrogate, Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x0a]));
    await expect(collect(readTxtLines(surrogate))).rejects.toBeInstanceOf(CorpusError);
  });

  it('streams a large file in bounded batches', async () => {
    const path = join(dir, 'large.txt');
    const line = '한국어 문장 하나가 여기에 있습니다.\n';
    writeFileSync(path, line.repeat(200_000)); // ~9 MB
    let count = 0;
    let largestBatch = 0;
    for await (const batch of readTxtLines(path, { chunkSize: 1 << 16 })) {
      count += batch.lines.length;
      largestBatch = Math.max(largestBatch, batch.lines.length);
    }
    expect(count).toBe(200_000);
    expect(largestBatch).toBeLessThan(2000);
  });
});

describe('ko_lm_dataformat .jsonl.zst', () => {
  const archive = (name: string, bytes: Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('string, list and dict texts; meta defaults to {}; several frames back to back', async () => {
    const path = archive('docs.jsonl.zst', Buffer.concat([zst(jsonl({ text: '하나', meta: { n: 1 } }, { text: ['둘', '셋'] })), zst(jsonl({ text: { a: 1 }, meta: {} }))]));
    expect(await collect(streamData(path))).toEqual(['하나', ['둘', '셋'], { a: 1 }]);
    expect(await collect(streamData(path, { getMeta: true }))).toEqual([['하나', { n: 1 }], [['둘', '셋'], {}], [{ a: 1 }, {}]]);
    expect(await collect(streamData(path, { autojoinSentences: true }))).toEqual(['하나', '둘 셋', { a: 1 }]);
  });

  it('sentences for the builder: strip, skip empties, newlines to spaces, documents counted', async () => {
    const path = archive('builder.jsonl.zst', zst(jsonl({ text: '  첫 문장\n둘째 줄 \n' }, { text: ['', ' \t', '가', ' 나\n다 '] })));
    const sentences = (await collect(readCorpusFile(path))).flatMap((b) => b.sentences);
    expect(sentences).toEqual([
      { text: '첫 문장 둘째 줄', line: 1, document: 0 },
      { text: '가', line: 2, document: 1 },
      { text: '나 다', line: 2, document: 1 },
    ]);
  });

  it('corrupt zstd data is an error naming the file', async () => {
    const good = zst(jsonl(...Array.from({ length: 200 }, (_, i) => ({ text: `문서 ${i} `.repeat(20) }))));
    const bad = Buffer.from(good);
    for (let i = 20; i < bad.length - 8; i += 7) bad[i] ^= 0x5a;
    const path = archive('corrupt.jsonl.zst', bad);
    await expect(collect(streamData(path))).rejects.toThrow(new RegExp(`^${path.replace(/[.]/g, '\\.')} \\(byte \\d+\\): (corrupt zstd data|truncated zstd stream|invalid)`));
  });

  it('a truncated zstd stream is an error, not a silently short corpus', async () => {
    const good = zst(jsonl(...Array.from({ length: 50 }, (_, i) => ({ text: `문서 ${i}` }))));
    const path = archive('truncated.jsonl.zst', good.subarray(0, good.length - 9));
    await expect(collect(streamData(path))).rejects.toThrow(/truncated zstd stream: the compressed data ends inside a frame/);
  });

  it('invalid UTF-8, invalid JSON, a blank line, a non-object, a missing "text": each names the line', async () => {
    const cases: [string, Buffer, RegExp][] = [
      ['utf8', Buffer.concat([Buffer.from('{"text": "ok"}\n{"text": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]), /\(line 2, byte 25\): invalid UTF-8 \(byte 0xc3\)/],
      ['json', Buffer.from('{"text": "ok"}\n{"text": "ok"\n'), /\(line 2, byte 15\): invalid JSON/],
      ['blank', Buffer.from('{"text": "ok"}\n\n{"text": "ok"}\n'), /\(line 2, byte 15\): blank line/],
      ['array', Buffer.from('["text"]\n'), /\(line 1, byte 0\): expected a JSON object/],
      ['notext', Buffer.from('{"text": "ok"}\n{"meta": {}}\n'), /\(line 2, byte 15\): the JSON object has no "text" key/],
    ];
    for (const [name, content, message] of cases) {
      const path = archive(`${name}.jsonl.zst`, Buffer.from(compress(content, 3)));
      await expect(collect(streamData(path))).rejects.toThrow(message);
    }
    const path = archive('numbers.jsonl.zst', zst(jsonl({ text: [1, 2] })));
    await expect(collect(readCorpusFile(path))).rejects.toThrow(/\(line 1\): "text" must be a string or a list of strings/);
  });
});

describe('corpus statistics on a folder written here', () => {
  it('counts files, documents, sentences and bytes for both formats', async () => {
    const root = join(dir, 'stats');
    mkdirSync(root);
    writeFileSync(join(root, 'a.txt'), '문장 하나.\n문장 둘.\n\n  \n다른 문서.\n');
    writeFileSync(join(root, 'b.jsonl.zst'), zst(jsonl({ text: '하나' }, { text: ['가', '', '나'] }, { text: '   ' })));
    const stats = await corpusStats(root);
    expect(stats.files.map((f) => [relative(root, f.path), f.format, f.documents, f.sentences])).toEqual([
      ['a.txt', 'txt', 2, 3],
      ['b.jsonl.zst', 'jsonl.zst', 3, 3],
    ]);
    expect(stats.totals.files).toBe(2);
    expect(stats.totals.sentences).toBe(6);
    expect(stats.totals.documents).toBe(5);
  });
});
