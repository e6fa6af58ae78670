import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusStats } from '../../lib/corpus/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';
import { jsonl, put, useTempDir, zst } from './support.js';

describe.skipIf(!hasFixtures)('corpusStats on the korean-corpus fixture equals its stats.json', () => {
  it('nsmc_sample.txt and nsmc_reviews_bench.txt: documents, sentences and bytes', async () => {
    const expected = JSON.parse(readFileSync(fixture('korean-corpus', 'stats.json'), 'utf8')) as Record<
      string,
      { documents: number; sentences: number; bytes: number }
    >;
    const stats = await corpusStats(fixture('korean-corpus'));
    expect(stats.files.map((f) => [relative(fixture('korean-corpus'), f.path), f.format, f.documents, f.sentences, f.bytes])).toEqual(
      ['nsmc_reviews_bench.txt', 'nsmc_sample.txt'].map((name) => [name, 'txt', expected[name].documents, expected[name].sentences, expected[name].bytes]),
    );
    expect(stats.totals).toMatchObject({
      files: 2,
      documents: expected['nsmc_sample.txt'].documents + expected['nsmc_reviews_bench.txt'].documents,
      sentences: expected['nsmc_sample.txt'].sentences + expected['nsmc_reviews_bench.txt'].sentences,
      bytes: expected['nsmc_sample.txt'].bytes + expected['nsmc_reviews_bench.txt'].bytes,
    });
  });
});

describe('corpusStats on a folder written here', () => {
  const tmp = useTempDir();

  it('counts files, documents, sentences and bytes for both formats, and reports progress', async () => {
    const root = join(tmp(), 'stats');
    const txt = '문장 하나.\n문장 둘.\n\n  \n다른 문서.\n';
    put(root, 'a.txt', txt);
    const archive = zst(jsonl({ text: '하나' }, { text: ['가', '', '나'] }, { text: '   ' }));
    put(root, 'sub/b.jsonl.zst', archive);
    const progress: number[] = [];
    const stats = await corpusStats(root, { onProgress: (done) => progress.push(done) });
    expect(stats.files.map((f) => [relative(root, f.path), f.format, f.bytes, f.documents, f.sentences])).toEqual([
      ['a.txt', 'txt', Buffer.byteLength(txt), 2, 3],
      ['sub/b.jsonl.zst', 'jsonl.zst', archive.length, 3, 3],
    ]);
    expect(stats.totals).toMatchObject({ files: 2, documents: 5, sentences: 6, bytes: Buffer.byteLength(txt) + archive.length });
    expect(progress).toEqual([Buffer.byteLength(txt), Buffer.byteLength(txt) + archive.length]);
  });
});
