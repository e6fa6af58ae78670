import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compareCodePoints } from '../text/compare-code-points.js';
import { CorpusError } from './corpus-error.js';

export const CORPUS_SUFFIXES = ['.jsonl.zst', '.txt'] as const;

/**
 * The corpus files under `dir`, found as the reference builder finds them: recursively, names ending
 * in `.jsonl.zst` or `.txt`, hidden files and folders included, one sort of the whole list in
 * code-point order. Paths are `dir` joined with the relative path, as Python's pathlib prints them.
 *
 * Like pathlib's `rglob` before Python 3.13, symbolic links to folders are not descended into
 * (that also keeps a link cycle from looping); links to files are listed. A folder whose name ends
 * in `.txt` is skipped rather than handed to the reader.
 */
export async function findCorpusFiles(dir: string): Promise<string[]> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new CorpusError(dir, 'corpus folder not found');
  }
  if (!info.isDirectory()) throw new CorpusError(dir, 'expected a folder of .txt / .jsonl.zst files');
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        await walk(path);
      } else if (CORPUS_SUFFIXES.some((suffix) => entry.name.endsWith(suffix))) {
        if (entry.isSymbolicLink() && !(await stat(path).then((s) => s.isFile()).catch(() => false))) continue;
        found.push(path);
      }
    }
  };
  await walk(dir);
  if (found.length === 0) throw new CorpusError(dir, 'no corpus files found (looked recursively for *.txt and *.jsonl.zst)');
  return found.sort(compareCodePoints);
}
