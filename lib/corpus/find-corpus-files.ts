import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { fileSystemFor, joinPath } from '../fs/index.js';
import { compareCodePoints } from '../text/compare-code-points.js';
import { CorpusError } from './corpus-error.js';

/** The names the reference builder looks for, in the order it searches for them (case-sensitive, as on POSIX). */
export const CORPUS_SUFFIXES = ['.jsonl.zst', '.txt'] as const;

const fileName = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The corpus files under `dir`, found as the reference builder finds them (`Path(dir).rglob('*.jsonl.zst')`
 * and `rglob('*.txt')`, then one sort of the whole list): recursive, hidden files and folders included,
 * suffixes matched case-sensitively, sorted by code point as Python sorts `str` (not by UTF-16 unit, as
 * JavaScript's default sort does). Each path is the string pathlib would print: `dir` normalised the
 * way pathlib normalises it (repeated and trailing slashes and `.` parts dropped, `..` kept), then `/`
 * and the path below it — so for `dir = 'corpus'` the paths read `corpus/sub/a.txt`.
 *
 * Symbolic links: pathlib's `rglob` (Python 3.8 to 3.13) does not descend into links to folders —
 * which also means a link cycle cannot loop — but does list links whose own name matches, so links
 * to files are listed (and read through). Where the reference would list an entry that it then
 * cannot read as a file (a folder named `x.txt`, a link to one, a broken link, a FIFO) the builder
 * crashed mid-run; here that is a `CorpusError` before anything is read. File names that are not
 * valid UTF-8 are an error too: Node cannot name such a file faithfully.
 *
 * A `gs://bucket/prefix` is searched the same way through one recursive listing of the prefix: the
 * same suffixes, the same code-point sort, each path `gs://bucket/prefix/` and the object name below
 * it (the prefix as `joinPath` spells it, without a trailing slash). A "folder" (a prefix with
 * objects under it) named like a corpus file is an error, as a local folder so named is.
 */
export async function findCorpusFiles(dir: string): Promise<string[]> {
  if (fileSystemFor(dir).kind !== 'local') return findStoredCorpusFiles(dir);
  const root = pathlibString(dir);
  let info: Stats;
  try {
    info = await stat(root);
  } catch {
    throw new CorpusError(dir, 'corpus folder not found');
  }
  if (!info.isDirectory()) throw new CorpusError(dir, 'not a folder (expected a folder searched recursively for *.jsonl.zst and *.txt files)');

  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    let entries: Dirent<Buffer>[];
    try {
      entries = await readdir(folder, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      throw new CorpusError(folder, `cannot list this folder (${(error as Error).message})`);
    }
    for (const entry of entries) {
      let name: string;
      try {
        name = fileName.decode(entry.name);
      } catch {
        throw new CorpusError(folder, `a name in this folder is not valid UTF-8 (${JSON.stringify(entry.name.toString('latin1'))}); rename it`);
      }
      const path = childPath(folder, name);
      if (isCorpusName(name)) {
        if (entry.isFile() || (entry.isSymbolicLink() && (await isRegularFile(path)))) {
          found.push(path);
          continue;
        }
        throw new CorpusError(
          path,
          'named like a corpus file but not a readable regular file (a folder, a link to one, a broken link, …); the reference builder would crash on it',
        );
      }
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  if (found.length === 0) throw new CorpusError(dir, 'no corpus files found (looked recursively for *.jsonl.zst and *.txt)');
  return found.sort(compareCodePoints);
}

/** `findCorpusFiles` on a store without real folders (Cloud Storage), from one recursive listing. */
async function findStoredCorpusFiles(dir: string): Promise<string[]> {
  const fs = fileSystemFor(dir);
  const root = joinPath(dir);
  const info = await fs.stat(root);
  if (!info) throw new CorpusError(dir, 'corpus folder not found');
  if (!info.isDirectory) throw new CorpusError(dir, 'not a folder (expected a folder searched recursively for *.jsonl.zst and *.txt files)');
  const found: string[] = [];
  for (const relative of await fs.listRecursive(root)) {
    const parts = relative.split('/');
    const folder = parts.slice(0, -1).findIndex((part) => isCorpusName(part));
    if (folder >= 0) {
      throw new CorpusError(
        childPath(root, parts.slice(0, folder + 1).join('/')),
        'named like a corpus file but a folder (objects are stored below it); the reference builder would crash on it',
      );
    }
    if (isCorpusName(parts.at(-1)!)) found.push(childPath(root, relative));
  }
  if (found.length === 0) throw new CorpusError(dir, 'no corpus files found (looked recursively for *.jsonl.zst and *.txt)');
  return found.sort(compareCodePoints);
}

const isCorpusName = (name: string): boolean => CORPUS_SUFFIXES.some((suffix) => name.endsWith(suffix));

/** pathlib's child path: no `./` prefix below `.`, no doubled slash below `/`. */
const childPath = (folder: string, name: string): string => (folder === '.' ? name : folder.endsWith('/') ? folder + name : `${folder}/${name}`);

const isRegularFile = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isFile(),
    () => false,
  );

/**
 * `str(PurePosixPath(dir))`: one or three-plus leading slashes become `/`, exactly two stay `//`;
 * empty and `.` parts are dropped, `..` is kept; nothing left is `.`.
 */
export function pathlibString(dir: string): string {
  const root = dir.startsWith('//') && !dir.startsWith('///') ? '//' : dir.startsWith('/') ? '/' : '';
  const parts = dir.split('/').filter((part) => part !== '' && part !== '.');
  const joined = root + parts.join('/');
  return joined === '' ? '.' : joined;
}
