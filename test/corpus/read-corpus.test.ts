import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorpusError, type CorpusSentence, readCorpusFile, readCorpusSentences, readCorpusTexts } from '../../lib/corpus/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';
import { collect, jsonl, put, useTempDir, zst } from './support.js';

const caseFiles = (name: string): string[] => {
  const root = fixture('golden-builder', name);
  const { input_files_sorted } = JSON.parse(readFileSync(join(root, 'case.json'), 'utf8')) as { input_files_sorted: string[] };
  return input_files_sorted.map((file) => join(root, file));
};

describe.skipIf(!hasFixtures)('builder-facing sentences equal the strings the reference builder tokenized (golden-builder tokenization.jsonl)', () => {
  // a: .txt + a .jsonl.zst written by ko_lm_dataformat 0.2.0 (string, list, "\n"-joined, whitespace elements);
  // d: plain .txt; f: BOM, CRLF, lone CR, U+2028, NEL, U+3000, controls, blns.jsonl.zst, zero-token lines; i: many small files.
  for (const name of ['a_shipped_scaled', 'd_long_seq_chunking', 'f_edge_inputs', 'i_rounding_ties']) {
    it(`${name}: the distinct sentences, in first-occurrence order over input_files_sorted`, async () => {
      const expected = readFileSync(fixture('golden-builder', name, 'tokenization.jsonl'), 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => (JSON.parse(line) as { text: string }).text);
      const seen = new Set<string>();
      const ours: string[] = [];
      for await (const batch of readCorpusSentences(caseFiles(name))) {
        for (const { text } of batch.sentences) {
          if (!seen.has(text)) {
            seen.add(text);
            ours.push(text);
          }
        }
      }
      expect(ours).toEqual(expected);
    });
  }

  it('f_edge_inputs: one last batch per file, in order; sentences carry file, line and document', async () => {
    const files = caseFiles('f_edge_inputs');
    const batches = await collect(readCorpusSentences(files));
    expect(batches.filter((b) => b.last).map((b) => b.file)).toEqual(files);
    for (const [i, batch] of batches.entries()) if (!batch.last) expect(batches[i + 1].file).toBe(batch.file);
    const edge = batches.filter((b) => b.file.endsWith('edge.txt')).flatMap((b) => b.sentences);
    expect(edge[0]).toEqual({ text: '\ufeff첫 줄은 바이트 순서 표시(BOM)로 시작합니다.', file: files[4], line: 1, document: 0 });
    expect(edge.slice(1, 3).map((s) => [s.text, s.line])).toEqual([
      ['두 번째 줄은 CR 하나로 끝납니다.', 2],
      ['세 번째 줄.', 3],
    ]);
    const zero = batches.filter((b) => b.file.endsWith('zero_tokens.txt')).flatMap((b) => b.sentences);
    expect(zero.map((s) => s.text)).toEqual(['\u200b', '\ufeff', '\u200b']); // not whitespace to Python: kept
    const blns = batches.filter((b) => b.file.endsWith('blns.jsonl.zst'));
    expect(blns.at(-1)?.documents).toBe(4);
    expect(blns.flatMap((b) => b.sentences).map((s) => s.document)).toEqual([0, 1, 1, 2, 3]);
  });
});

describe('readCorpusFile on files written here', () => {
  const tmp = useTempDir();
  let n = 0;
  const sentences = async (path: string, chunkSize?: number): Promise<CorpusSentence[]> =>
    (await collect(readCorpusFile(path, { chunkSize }))).flatMap((b) => b.sentences);

  it('.txt: stripped non-empty lines; documents are runs of non-blank lines (whitespace-only lines are blank)', async () => {
    const path = put(tmp(), 'docs.txt', '\n  첫 문장.  \n둘째 문장.\n \t\u3000\n\n셋째\r\n\r\n\x1c\n넷째\u2028\n');
    for (const chunkSize of [1, 4, undefined]) {
      const batches = await collect(readCorpusFile(path, { chunkSize }));
      expect(batches.flatMap((b) => b.sentences)).toEqual([
        { text: '첫 문장.', file: path, line: 2, document: 0 },
        { text: '둘째 문장.', file: path, line: 3, document: 0 },
        { text: '셋째', file: path, line: 6, document: 1 },
        { text: '넷째', file: path, line: 9, document: 2 },
      ]);
      expect(batches.at(-1)).toMatchObject({ last: true, documents: 3 });
      expect(batches.filter((b) => b.last).length).toBe(1);
    }
  });

  it('readCorpusTexts gives the same sentences as bare strings, for .txt and .jsonl.zst', async () => {
    const txt = put(tmp(), 'texts.txt', '\n  첫 문장.  \n둘째 문장.\n \t\u3000\n\n셋째\r\n\r\n\x1c\n넷째\u2028\n');
    const zstPath = put(tmp(), 'texts.jsonl.zst', zst(jsonl({ text: '  첫 문장\n둘째 줄 \n' }, { text: ['', ' \t', '가', ' 나\n다 '] })));
    for (const path of [txt, zstPath]) {
      for (const chunkSize of [1, 4, undefined]) {
        const texts = (await collect(readCorpusTexts(path, { chunkSize }))).flat();
        expect(texts).toEqual((await sentences(path, chunkSize)).map((s) => s.text));
        expect(texts.length).toBeGreaterThan(2);
      }
    }
  });

  it('.jsonl.zst: a string is one sentence, list elements each one; stripped, empties skipped, \\n → space; documents = JSON lines', async () => {
    const path = put(
      tmp(),
      'builder.jsonl.zst',
      zst(jsonl({ text: '  첫 문장\n둘째 줄 \n' }, { text: ['', ' \t', '가', ' 나\n다 ', '라\r\n마'] }, { text: [] }, { text: '\u3000' })),
    );
    expect(await sentences(path)).toEqual([
      { text: '첫 문장 둘째 줄', file: path, line: 1, document: 0 },
      { text: '가', file: path, line: 2, document: 1 },
      { text: '나 다', file: path, line: 2, document: 1 },
      { text: '라\r 마', file: path, line: 2, document: 1 }, // only \n is replaced, as add_line does
    ]);
    const batches = await collect(readCorpusFile(path));
    expect(batches.at(-1)).toMatchObject({ last: true, documents: 4 });
  });

  it('.jsonl.zst: a dict-valued text contributes its keys, as Python iterating the dict does', async () => {
    const path = put(tmp(), 'dict.jsonl.zst', zst(jsonl({ text: { sentence_a: '안녕하세요', ' sentence_b ': '반가워요' } })));
    expect((await sentences(path)).map((s) => s.text)).toEqual(['sentence_a', 'sentence_b']);
  });

  it('.jsonl.zst inputs the reference builder crashed on are CorpusErrors naming file and line', async () => {
    const cases: [unknown, RegExp][] = [
      [{ text: ['ok', 3] }, /\(line 2\): "text" is a list holding a non-string/],
      [{ text: 3 }, /\(line 2\): "text" is a number, not a string or list of strings/],
      [{ text: null }, /\(line 2\): "text" is null/],
      [{ text: { 1: 'a', b: 'c' } }, /\(line 2\): "text" is an object with integer-like keys/],
    ];
    for (const [doc, message] of cases) {
      const path = put(tmp(), `crash-${n++}.jsonl.zst`, zst(jsonl({ text: 'fine' }, doc)));
      const error = await sentences(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorpusError);
      expect((error as CorpusError).message).toMatch(message);
      expect((error as CorpusError).file).toBe(path);
    }
    const surrogate = put(tmp(), 'surrogate.jsonl.zst', zst('{"text": "ok"}\n{"text": "a\\ud800b"}\n'));
    await expect(sentences(surrogate)).rejects.toThrow(`${surrogate} (line 2): a sentence holds a lone surrogate`);
    const pair = put(tmp(), 'pair.jsonl.zst', zst('{"text": "\\ud83d\\ude00"}\n'));
    expect((await sentences(pair)).map((s) => s.text)).toEqual(['😀']);
  });

  it('an empty .txt still ends with its one last batch; other names, and folders named like archives, are errors', async () => {
    const empty = put(tmp(), 'empty.txt', '');
    expect(await collect(readCorpusFile(empty))).toEqual([{ file: empty, sentences: [], documents: 0, last: true }]);
    await expect(collect(readCorpusFile(put(tmp(), 'x.md', '')))).rejects.toThrow(/unsupported corpus file/);
    const folder = `${tmp()}/folder.jsonl.zst`;
    put(folder, 'inner.jsonl.zst', zst(jsonl({ text: 'x' })));
    await expect(collect(readCorpusFile(folder))).rejects.toThrow(`${folder}: not a readable regular file`);
  });

  it('large .jsonl.zst archives come in batches of at most 4096 sentences', async () => {
    const path = put(tmp(), 'many.jsonl.zst', zst(jsonl(...Array.from({ length: 3000 }, (_, i) => ({ text: [`a${i}`, `b${i}`] })))));
    const batches = await collect(readCorpusFile(path));
    expect(batches.map((b) => b.sentences.length)).toEqual([4096, 1904]);
    expect(batches.map((b) => [b.documents, b.last])).toEqual([
      [2048, false],
      [3000, true],
    ]);
  });
});
