import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileAt } from '../../lib/fs/index.js';
import { complete, completeAsync, completeStoredPath, listStoredEntries } from '../../repl/interactive/complete.js';
import { registry } from '../../repl/registry/commands.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

/* Tab completion of gs:// paths, listed with a delimiter from a real (emulated) bucket. */

let bucket = '';
beforeAll(async () => {
  if (!hasGcsEmulator) return;
  bucket = `gs://${uniqueBucket('complete')}`;
  for (const name of [
    'corpus/a.txt',
    'corpus/b.jsonl.zst',
    'corpus/sub/c.txt',
    'corpus/.hidden.txt',
    'corpus-old/x.txt',
    'tokenizer/vocab.txt',
    'tokenizer/tokenizer_config.json',
    'my dir/file.txt',
    'top.txt',
  ])
    await writeFileAt(`${bucket}/${name}`, 'x\n');
});

const candidates = async (text: string): Promise<readonly string[]> => (await completeAsync(text, registry, { cwd: '/nowhere', listDir: () => [] })).candidates;

describe.skipIf(!hasGcsEmulator)('Tab completion of gs:// paths (emulator)', () => {
  it('lists one level of the prefix typed, folders ending in /, for path arguments and path flags', async () => {
    expect(await candidates(`corpus stats ${bucket}/`)).toEqual([
      `${bucket}/corpus-old/`,
      `${bucket}/corpus/`,
      `${bucket}/my\\ dir/`,
      `${bucket}/tokenizer/`,
      `${bucket}/top.txt`,
    ]);
    expect(await candidates(`corpus stats ${bucket}/corpus`)).toEqual([`${bucket}/corpus-old/`, `${bucket}/corpus/`]);
    expect(await candidates(`corpus stats ${bucket}/corpus/`)).toEqual([`${bucket}/corpus/a.txt`, `${bucket}/corpus/b.jsonl.zst`, `${bucket}/corpus/sub/`]);
    expect(await candidates(`corpus stats ${bucket}/corpus/.`)).toEqual([`${bucket}/corpus/.hidden.txt`]);
    expect(await candidates(`tokenize --tokenizer_dir ${bucket}/tok`)).toEqual([`${bucket}/tokenizer/`]);
    expect(await candidates(`tokenize --tokenizer_dir ${bucket}/tokenizer/v`)).toEqual([`${bucket}/tokenizer/vocab.txt`]);
    expect(await candidates(`build-tfrecord --input_dir ${bucket}/corpus/s`)).toEqual([`${bucket}/corpus/sub/`]);
    // The start is where the word begins, so the line editor replaces the whole path.
    const line = `corpus stats ${bucket}/corpus/s`;
    expect((await completeAsync(line, registry)).start).toBe('corpus stats '.length);
  });

  it('completes nothing where there is nothing to list, and never throws', async () => {
    expect(await candidates('corpus stats gs://')).toEqual([]);
    expect(await candidates(`corpus stats ${bucket}`)).toEqual([]);
    expect(await candidates(`corpus stats ${bucket}/nothing-here/`)).toEqual([]);
    expect(await candidates(`corpus stats gs://${uniqueBucket('empty')}/`)).toEqual([]);
    // Not a bucket name (upper case): the listing fails, Tab offers nothing.
    expect(await candidates('corpus stats gs://Not_A_Bucket/x')).toEqual([]);
    expect(await listStoredEntries('gs://Not_A_Bucket/')).toEqual([]);
    // A flag that takes no path completes no path.
    expect(await candidates(`build-tfrecord --seed ${bucket}/`)).toEqual([]);
  });

  it('the listing is the store’s own: completeStoredPath lists through lib/fs', async () => {
    expect(await completeStoredPath(`${bucket}/t`)).toEqual([`${bucket}/tokenizer/`, `${bucket}/top.txt`]);
    expect(await listStoredEntries(`${bucket}/tokenizer/`)).toEqual(['tokenizer_config.json', 'vocab.txt']);
  });
});

describe('gs:// paths without listing', () => {
  it('the synchronous completion offers no gs:// path (it cannot list a bucket) and never a local one for it', () => {
    const listDir = (): string[] => ['gs:/', 'corpus/'];
    expect(complete('corpus stats gs://b/c', registry, { cwd: '/p', listDir }).candidates).toEqual([]);
  });

  it('completeAsync still completes local paths and words as complete does', async () => {
    const listDir = (dir: string): string[] => (dir === '/p/out' ? ['build/', 'notes.txt'] : ['out/', 'data/']);
    for (const text of ['stats out/', 'corpus s', 'build-tfrecord --out', 'tfrecord show o']) {
      expect(await completeAsync(text, registry, { cwd: '/p', listDir, listStoredDir: async () => ['never/'] })).toEqual(
        complete(text, registry, { cwd: '/p', listDir }),
      );
    }
    expect((await completeAsync('stats out/', registry, { cwd: '/p', listDir })).candidates).toEqual(['out/build/', 'out/notes.txt']);
  });

  it('an injected lister gets the prefix with its slash', async () => {
    const asked: string[] = [];
    const listStoredDir = async (dir: string): Promise<string[]> => {
      asked.push(dir);
      return ['a/', 'b.txt', '.c'];
    };
    expect((await completeAsync('corpus stats gs://bkt/x/', registry, { listStoredDir })).candidates).toEqual(['gs://bkt/x/a/', 'gs://bkt/x/b.txt']);
    expect(asked).toEqual(['gs://bkt/x/']);
  });
});
