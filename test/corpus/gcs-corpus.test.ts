import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CorpusError,
  corpusStats,
  findCorpusFiles,
  koLmRecords,
  readCorpusFile,
  readCorpusTexts,
  readTxtLines,
  type StreamDataOptions,
  streamData,
} from '../../lib/corpus/index.js';
import { copyFile, fileSystemFor, relativePath, writeFileAt } from '../../lib/fs/index.js';
import { sampleCorpusDir } from '../../lib/package/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { collect, put, uploadFolder, useTempDir } from './support.js';

setUpGcsEmulator();

/*
 * A corpus in a bucket reads exactly as the same files on disk: the same files found in the same
 * order, the same lines, sentences, documents and ko_lm_dataformat records, the same statistics.
 */

/** Everything `readCorpusFile` gives, without the file name and the batch boundaries (a store's reads may cut elsewhere). */
async function sentencesOf(path: string): Promise<{ sentences: [string, number, number][]; documents: number; lastBatches: number; bytesRead: number }> {
  let bytesRead = 0;
  const batches = await collect(readCorpusFile(path, { onRead: (n) => (bytesRead += n) }));
  expect(batches.every((b) => b.file === path && b.sentences.every((s) => s.file === path))).toBe(true);
  return {
    sentences: batches.flatMap((b) => b.sentences.map((s): [string, number, number] => [s.text, s.line, s.document])),
    documents: batches.at(-1)!.documents,
    lastBatches: batches.filter((b) => b.last).length,
    bytesRead,
  };
}

/** Every line of a text file with its number; `chunkSize` cuts the local reads small. */
async function linesOf(path: string, chunkSize?: number): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for await (const batch of readTxtLines(path, { chunkSize })) for (const [k, line] of batch.lines.entries()) out.push([line, batch.firstLine + k]);
  return out;
}

const texts = async (path: string): Promise<string[]> => (await collect(readCorpusTexts(path))).flat();

describe.skipIf(!hasGcsEmulator)('a corpus in gs:// (emulator) reads exactly as on disk', () => {
  const tmp = useTempDir();

  it('the sample corpus: the same files in the same order, lines, sentences, documents and statistics', async () => {
    const remote = `gs://${uniqueBucket('sample-corpus')}/corpora/sample`;
    expect((await uploadFolder(sampleCorpusDir, remote)).sort()).toEqual(['README.md', 'essays.txt', 'everyday.txt', 'science-notes.txt']);

    const local = await findCorpusFiles(sampleCorpusDir);
    expect(local.map((p) => relative(sampleCorpusDir, p))).toEqual(['essays.txt', 'everyday.txt', 'science-notes.txt']);
    expect(await findCorpusFiles(remote)).toEqual(local.map((p) => `${remote}/${relative(sampleCorpusDir, p)}`));
    // A trailing slash is not doubled in the paths, as pathlib drops it locally.
    expect(await findCorpusFiles(`${remote}/`)).toEqual(await findCorpusFiles(remote));

    for (const file of local) {
      const stored = `${remote}/${relative(sampleCorpusDir, file)}`;
      const lines = await linesOf(file);
      expect(lines.length).toBeGreaterThan(100);
      expect(await linesOf(stored)).toEqual(lines);
      expect(await linesOf(stored, 1000)).toEqual(lines);
      const ours = await sentencesOf(stored);
      expect(ours).toEqual(await sentencesOf(file));
      expect(ours.bytesRead).toBe(readFileSync(file).length);
      expect(ours.documents).toBeGreaterThan(1);
      expect(await texts(stored)).toEqual(await texts(file));
    }

    const localStats = await corpusStats(sampleCorpusDir);
    const storedStats = await corpusStats(remote);
    expect(storedStats.totals).toEqual(localStats.totals);
    expect(storedStats.files).toEqual(localStats.files.map((f) => ({ ...f, path: `${remote}/${relative(sampleCorpusDir, f.path)}` })));
    const progress: [number, number, string][] = [];
    await corpusStats(remote, { onProgress: (done, total, file) => progress.push([done, total, file]) });
    expect(progress.at(-1)).toEqual([localStats.totals.bytes, localStats.totals.bytes, storedStats.files.at(-1)!.path]);
  });

  it('a whole bucket is a corpus folder too: gs://bucket/name, never gs://bucket//name', async () => {
    const bucket = `gs://${uniqueBucket('bucket-root')}`;
    await uploadFolder(sampleCorpusDir, bucket);
    const expected = ['essays.txt', 'everyday.txt', 'science-notes.txt'].map((name) => `${bucket}/${name}`);
    expect(await findCorpusFiles(bucket)).toEqual(expected);
    expect(await findCorpusFiles(`${bucket}/`)).toEqual(expected);
  });

  it('the same names as on disk: recursive, hidden included, case-sensitive suffixes, one code-point sort', async () => {
    const root = join(tmp(), 'names');
    const names = [
      'b.txt',
      'A.txt',
      '.dot.txt',
      '.txt',
      'Sub.txt',
      'Sub/c.txt',
      'Sub/.hidden-dir/d.txt',
      'Sub/deeper/still/e.jsonl.zst',
      'a.jsonl.zst',
      'x.jsonl.zst',
      '\u{e000}.txt',
      '\u{ff21}.txt',
      '\u{1f600}.txt',
      '공백 있는 이름.txt',
      'notes.md',
      'UPPER.TXT',
      'y.JSONL.ZST',
      'z.jsonl',
      'w.zst',
      'v.txt.gz',
      'archive.jsonl.zst.tar',
      'Sub/u.json',
      'current_chunk_incomplete_0',
    ];
    for (const name of names) put(root, name, 'x\n');
    const remote = `gs://${uniqueBucket('names')}/c`;
    await uploadFolder(root, remote);
    const local = (await findCorpusFiles(root)).map((f) => relative(root, f));
    // Code-point order: '.' < '/' puts Sub.txt before Sub/…; U+E000 < U+FF21 < U+1F600 (UTF-16 order would put the emoji first).
    expect(local).toEqual([
      '.dot.txt',
      '.txt',
      'A.txt',
      'Sub.txt',
      'Sub/.hidden-dir/d.txt',
      'Sub/c.txt',
      'Sub/deeper/still/e.jsonl.zst',
      'a.jsonl.zst',
      'b.txt',
      'x.jsonl.zst',
      '공백 있는 이름.txt',
      '\u{e000}.txt',
      '\u{ff21}.txt',
      '\u{1f600}.txt',
    ]);
    expect(await findCorpusFiles(remote)).toEqual(local.map((name) => `${remote}/${name}`));
  });

  it.skipIf(!hasFixtures)('the reference builder’s file order (golden-builder input_files_sorted) from gs://', async () => {
    const bucket = `gs://${uniqueBucket('golden')}`;
    for (const name of ['a_shipped_scaled', 'f_edge_inputs', 'i_rounding_ties']) {
      const root = fixture('golden-builder', name);
      const { input_files_sorted } = JSON.parse(readFileSync(join(root, 'case.json'), 'utf8')) as { input_files_sorted: string[] };
      await uploadFolder(join(root, 'corpus'), `${bucket}/${name}/corpus`);
      const files = await findCorpusFiles(`${bucket}/${name}/corpus`);
      expect(files.map((f) => f.slice(`${bucket}/${name}/`.length))).toEqual(input_files_sorted);
      for (const [k, file] of files.entries()) expect(await sentencesOf(file), file).toEqual(await sentencesOf(join(root, input_files_sorted[k])));
    }
  });

  it.skipIf(!hasFixtures)('the Korean corpus fixture: every line and sentence of 25 MB of NSMC reviews, and its statistics', async () => {
    const remote = `gs://${uniqueBucket('korean')}/korean-corpus`;
    for (const name of ['nsmc_sample.txt', 'nsmc_reviews_bench.txt', 'stats.json']) await copyFile(fixture('korean-corpus', name), `${remote}/${name}`);
    const digest = (lines: [string, number][]): string =>
      createHash('sha256')
        .update(lines.map(([text, line]) => `${line}\t${text}`).join('\n'))
        .digest('hex');
    for (const name of ['nsmc_sample.txt', 'nsmc_reviews_bench.txt']) {
      const local = await linesOf(fixture('korean-corpus', name));
      const stored = await linesOf(`${remote}/${name}`);
      expect(stored.length).toBe(local.length);
      expect(digest(stored)).toBe(digest(local));
    }
    expect(await sentencesOf(`${remote}/nsmc_sample.txt`)).toEqual(await sentencesOf(fixture('korean-corpus', 'nsmc_sample.txt')));
    const expected = JSON.parse(readFileSync(fixture('korean-corpus', 'stats.json'), 'utf8')) as Record<
      string,
      { documents: number; sentences: number; bytes: number }
    >;
    const stats = await corpusStats(remote);
    expect(stats.files.map((f) => [f.path, f.documents, f.sentences, f.bytes])).toEqual(
      ['nsmc_reviews_bench.txt', 'nsmc_sample.txt'].map((name) => [
        `${remote}/${name}`,
        expected[name].documents,
        expected[name].sentences,
        expected[name].bytes,
      ]),
    );
    const local = await corpusStats(fixture('korean-corpus'));
    expect(stats.totals).toEqual(local.totals);
    expect(stats.files.map((f) => ({ ...f, path: relativePath(remote, f.path) }))).toEqual(
      local.files.map((f) => ({ ...f, path: relative(fixture('korean-corpus'), f.path) })),
    );
  });

  const CALLS: [string, StreamDataOptions][] = [
    ['stream_data()', {}],
    ['stream_data(get_meta=True)', { getMeta: true }],
    ['stream_data(autojoin_sentences=True)', { autojoinSentences: true }],
    ["stream_data(get_meta=True, autojoin_sentences=True, sent_joiner='\\n')", { getMeta: true, autojoinSentences: true, sentJoiner: '\n' }],
  ];

  it.skipIf(!hasFixtures)('ko_lm_dataformat archives: a folder, files and a .jsonl.zst.tar give the same documents, meta and records', async () => {
    const bucket = `gs://${uniqueBucket('kolm')}`;
    const archiveDir = fixture('ko-lm-dataformat', 'generated', 'ko_lm_dataformat_archive');
    const remoteDir = `${bucket}/ko_lm_dataformat_archive`;
    // The writer's open chunk is uploaded too: the folder reader must skip it there as on disk.
    expect(await uploadFolder(archiveDir, remoteDir)).toContain('current_chunk_incomplete_0');
    const expected = JSON.parse(readFileSync(fixture('ko-lm-dataformat', 'generated', 'ko_lm_dataformat_archive.expected_stream_data.json'), 'utf8')) as Record<
      string,
      unknown[]
    >;
    for (const [call, options] of CALLS) {
      const ours = await collect(streamData(remoteDir, options));
      expect(ours, call).toEqual(await collect(streamData(archiveDir, options)));
      expect(ours, call).toEqual(expected[call]);
    }
    // A trailing slash does not double in the files' names.
    expect((await collect(koLmRecords(`${remoteDir}/`))).map((r) => r.file)).toEqual((await collect(koLmRecords(remoteDir))).map((r) => r.file));
    const records = await collect(koLmRecords(remoteDir));
    expect(records.length).toBe(23);
    expect(records.map((r) => ({ ...r, file: relativePath(remoteDir, r.file) }))).toEqual(
      (await collect(koLmRecords(archiveDir))).map((r) => ({ ...r, file: relative(archiveDir, r.file) })),
    );

    const tar = fixture('ko-lm-dataformat', 'upstream-test-assets', 'blns.jsonl.zst.tar');
    await copyFile(tar, `${bucket}/blns.jsonl.zst.tar`);
    for (const [call, options] of CALLS) {
      expect(await collect(streamData(`${bucket}/blns.jsonl.zst.tar`, options)), call).toEqual(await collect(streamData(tar, options)));
    }
    const tarRecords = await collect(koLmRecords(`${bucket}/blns.jsonl.zst.tar`));
    expect(tarRecords.map((r) => r.member)).toContain('test_dir/1.zst');
    expect(tarRecords.map((r) => ({ ...r, file: 'f' }))).toEqual((await collect(koLmRecords(tar))).map((r) => ({ ...r, file: 'f' })));

    // KoBigBird's own sample data: .txt and .jsonl.zst side by side, as the builder reads them.
    const sample = fixture('kobigbird-sample-data');
    await uploadFolder(sample, `${bucket}/kobigbird-sample-data`);
    const localFiles = await findCorpusFiles(sample);
    const storedFiles = await findCorpusFiles(`${bucket}/kobigbird-sample-data`);
    expect(storedFiles.map((f) => relativePath(`${bucket}/kobigbird-sample-data`, f))).toEqual(localFiles.map((f) => relative(sample, f)));
    expect(storedFiles.some((f) => f.endsWith('.jsonl.zst'))).toBe(true);
    for (const [k, file] of storedFiles.entries()) {
      expect(await sentencesOf(file), file).toEqual(await sentencesOf(localFiles[k]));
      expect(await texts(file), file).toEqual(await texts(localFiles[k]));
    }
  });

  it('a missing or wrong gs:// corpus is one line naming the path', async () => {
    const bucket = `gs://${uniqueBucket('corpus-errors')}`;
    await writeFileAt(`${bucket}/corpus/a.txt`, 'one\n');
    await writeFileAt(`${bucket}/only-notes/notes.md`, 'no corpus here\n');
    await writeFileAt(`${bucket}/bad/x.txt/inside.md`, 'a "folder" named like a corpus file\n');
    const fails = async (promise: Promise<unknown>, expected: CorpusError): Promise<void> => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CorpusError);
      expect((error as Error).message).toBe(expected.message);
      expect((error as Error).message).not.toContain('\n');
    };
    await fails(findCorpusFiles(`${bucket}/missing`), new CorpusError(`${bucket}/missing`, 'corpus folder not found'));
    await fails(
      findCorpusFiles(`${bucket}/corpus/a.txt`),
      new CorpusError(`${bucket}/corpus/a.txt`, 'not a folder (expected a folder searched recursively for *.jsonl.zst and *.txt files)'),
    );
    await fails(
      findCorpusFiles(`${bucket}/only-notes`),
      new CorpusError(`${bucket}/only-notes`, 'no corpus files found (looked recursively for *.jsonl.zst and *.txt)'),
    );
    await fails(
      findCorpusFiles(`${bucket}/bad`),
      new CorpusError(`${bucket}/bad/x.txt`, 'named like a corpus file but a folder (objects are stored below it); the reference builder would crash on it'),
    );
    await fails(collect(readTxtLines(`${bucket}/corpus/none.txt`)), new CorpusError(`${bucket}/corpus/none.txt`, 'not found'));
    await fails(collect(readCorpusFile(`${bucket}/corpus/none.txt`)), new CorpusError(`${bucket}/corpus/none.txt`, 'not found'));
    await fails(collect(koLmRecords(`${bucket}/none.jsonl.zst`)), new CorpusError(`${bucket}/none.jsonl.zst`, 'not found'));
    await fails(corpusStats([`${bucket}/corpus/a.txt`, `${bucket}/gone.txt`]), new CorpusError(`${bucket}/gone.txt`, 'not found'));
    // The good file is still there and readable.
    expect(await fileSystemFor(`${bucket}/corpus/a.txt`).stat(`${bucket}/corpus/a.txt`)).toMatchObject({ size: 4 });
  });
});
