import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorpusError, findCorpusFiles, pathlibString } from '../../lib/corpus/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';
import { put, useTempDir } from './support.js';

const GOLDEN_CASES = [
  'a_shipped_scaled',
  'b_wordpiece_masking',
  'c_pairs_short_ngram3',
  'd_long_seq_chunking',
  'e_two_processes',
  'f_edge_inputs',
  'g_shipped_full_length',
  'h_few_shards_two_processes',
  'i_rounding_ties',
];

describe.skipIf(!hasFixtures)('discovery equals the reference builder (golden-builder case.json input_files_sorted)', () => {
  for (const name of GOLDEN_CASES) {
    it(name, async () => {
      const root = fixture('golden-builder', name);
      const { input_files_sorted } = JSON.parse(readFileSync(join(root, 'case.json'), 'utf8')) as { input_files_sorted: string[] };
      const files = await findCorpusFiles(join(root, 'corpus'));
      expect(files.map((f) => relative(root, f))).toEqual(input_files_sorted);
      expect(files.every((f) => f.startsWith(`${root}/corpus/`))).toBe(true);
    });
  }
});

describe('findCorpusFiles on folders written here', () => {
  const tmp = useTempDir();

  it('recursive, hidden files and folders included, case-sensitive suffixes, other names ignored, one code-point sort', async () => {
    const root = join(tmp(), 'discover');
    const names = [
      'b.txt',
      'A.txt',
      '.dot.txt',
      '.txt',
      'Sub.txt',
      'Sub/c.txt',
      'Sub/.hidden-dir/d.txt',
      'a.jsonl.zst',
      'x.jsonl.zst',
      '\u{e000}.txt',
      '\u{ff21}.txt',
      '\u{1f600}.txt',
      // ignored:
      'notes.md',
      'UPPER.TXT',
      'y.JSONL.ZST',
      'z.jsonl',
      'w.zst',
      'v.txt.gz',
      'Sub/u.json',
      'current_chunk_incomplete_0',
    ];
    for (const name of names) put(root, name, 'x\n');
    const files = (await findCorpusFiles(root)).map((f) => relative(root, f));
    // Code-point order: '.' < '/' puts Sub.txt before Sub/…; U+E000 < U+FF21 < U+1F600 (UTF-16 order would put the emoji first).
    expect(files).toEqual([
      '.dot.txt',
      '.txt',
      'A.txt',
      'Sub.txt',
      'Sub/.hidden-dir/d.txt',
      'Sub/c.txt',
      'a.jsonl.zst',
      'b.txt',
      'x.jsonl.zst',
      '\u{e000}.txt',
      '\u{ff21}.txt',
      '\u{1f600}.txt',
    ]);
    expect([...files].sort()).not.toEqual(files); // the default (UTF-16) sort differs here
  });

  it('prints paths as pathlib does: the folder normalised, then / and the relative path', async () => {
    const root = join(tmp(), 'paths');
    put(root, 'k/a.txt', 'x\n');
    expect(await findCorpusFiles(`${root}//./k/`)).toEqual([`${root}/k/a.txt`]);
    expect(pathlibString('corpus')).toBe('corpus');
    expect(pathlibString('corpus/')).toBe('corpus');
    expect(pathlibString('./corpus')).toBe('corpus');
    expect(pathlibString('a//b/./c/')).toBe('a/b/c');
    expect(pathlibString('/x/../y')).toBe('/x/../y'); // pathlib keeps '..'
    expect(pathlibString('//x')).toBe('//x');
    expect(pathlibString('///x')).toBe('/x');
    expect(pathlibString('/')).toBe('/');
    expect(pathlibString('.')).toBe('.');
    expect(pathlibString('')).toBe('.');
  });

  it('symbolic links: links to files are listed, links to folders are not descended into (so cycles cannot loop)', async () => {
    const root = join(tmp(), 'links');
    put(root, 'real/a.txt', 'x\n');
    symlinkSync(join(root, 'real'), join(root, 'linked-folder'));
    symlinkSync(root, join(root, 'real', 'cycle'));
    symlinkSync(join(root, 'real', 'a.txt'), join(root, 'link.txt'));
    expect((await findCorpusFiles(root)).map((f) => relative(root, f))).toEqual(['link.txt', 'real/a.txt']);
  });

  it('an entry named like a corpus file that is not a regular file is an error (the reference would crash reading it)', async () => {
    const folderNamed = join(tmp(), 'folder-named');
    put(folderNamed, 'ok.txt', 'x\n');
    mkdirSync(join(folderNamed, 'dir.txt'));
    await expect(findCorpusFiles(folderNamed)).rejects.toThrow(`${folderNamed}/dir.txt: named like a corpus file but not a readable regular file`);

    const broken = join(tmp(), 'broken-link');
    put(broken, 'ok.txt', 'x\n');
    symlinkSync(join(broken, 'missing'), join(broken, 'gone.jsonl.zst'));
    await expect(findCorpusFiles(broken)).rejects.toThrow(`${broken}/gone.jsonl.zst: named like a corpus file but not a readable regular file`);
  });

  it('a file name that is not valid UTF-8 is an error naming the folder', async () => {
    const root = join(tmp(), 'latin1');
    put(root, 'ok.txt', 'x\n');
    writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('.txt')]), 'x\n');
    await expect(findCorpusFiles(root)).rejects.toThrow(`${root}: a name in this folder is not valid UTF-8`);
  });

  it('an empty folder, a folder with no corpus files, a missing folder and a file are CorpusErrors naming the path', async () => {
    const empty = join(tmp(), 'empty');
    mkdirSync(empty);
    await expect(findCorpusFiles(empty)).rejects.toThrow(`${empty}: no corpus files found (looked recursively for *.jsonl.zst and *.txt)`);
    const other = join(tmp(), 'other');
    put(other, 'readme.md', '');
    put(other, 'deep/data.TXT', '');
    const error = await findCorpusFiles(other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorpusError);
    expect((error as CorpusError).file).toBe(other);
    await expect(findCorpusFiles(join(tmp(), 'missing'))).rejects.toThrow(/missing: corpus folder not found/);
    const file = put(tmp(), 'plain.txt', 'x\n');
    await expect(findCorpusFiles(file)).rejects.toThrow(/plain\.txt: not a folder/);
  });
});
