import pMap from 'p-map';
import { fileSystemFor, METADATA_REQUESTS_IN_FLIGHT } from '../fs/index.js';
import { CorpusError } from './corpus-error.js';
import { findCorpusFiles } from './find-corpus-files.js';
import { readCorpusFile } from './read-corpus.js';

export interface CorpusFileStats {
  readonly path: string;
  readonly format: 'txt' | 'jsonl.zst';
  /** Size on disk or in the bucket (compressed, for archives). */
  readonly bytes: number;
  /** .txt: runs of non-blank lines; .jsonl.zst: JSON lines. */
  readonly documents: number;
  /** Non-empty stripped sentences: what the builder tokenizes. */
  readonly sentences: number;
  /** UTF-8 bytes of those sentences. */
  readonly sentenceBytes: number;
}

export interface CorpusStats {
  readonly files: CorpusFileStats[];
  readonly totals: { readonly files: number; readonly documents: number; readonly sentences: number; readonly bytes: number; readonly sentenceBytes: number };
}

export interface CorpusStatsOptions {
  /** Called after each file with the bytes of the files done so far and their total. */
  readonly onProgress?: (doneBytes: number, totalBytes: number, file: string) => void;
}

/** Files, documents, sentences and bytes of a corpus folder (or an explicit file list), local or `gs://`. */
export async function corpusStats(dirOrFiles: string | readonly string[], options: CorpusStatsOptions = {}): Promise<CorpusStats> {
  const paths = typeof dirOrFiles === 'string' ? await findCorpusFiles(dirOrFiles) : dirOrFiles;
  const sizes = await fileSizes(paths);
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const files: CorpusFileStats[] = [];
  let doneBytes = 0;
  for (const [i, path] of paths.entries()) {
    let documents = 0;
    let sentences = 0;
    let sentenceBytes = 0;
    for await (const batch of readCorpusFile(path)) {
      sentences += batch.sentences.length;
      for (const s of batch.sentences) sentenceBytes += Buffer.byteLength(s.text);
      documents = batch.documents;
    }
    const format = path.endsWith('.txt') ? 'txt' : 'jsonl.zst';
    files.push({ path, format, bytes: sizes[i], documents, sentences, sentenceBytes });
    doneBytes += sizes[i];
    options.onProgress?.(doneBytes, totalBytes, path);
  }
  const sum = (key: 'documents' | 'sentences' | 'bytes' | 'sentenceBytes'): number => files.reduce((n, f) => n + f[key], 0);
  return {
    files,
    totals: { files: files.length, documents: sum('documents'), sentences: sum('sentences'), bytes: sum('bytes'), sentenceBytes: sum('sentenceBytes') },
  };
}

/** The size of every file, from the store's metadata (one request per `gs://` object, a bounded number at a time). */
function fileSizes(paths: readonly string[]): Promise<number[]> {
  return pMap(
    paths,
    async (path) => {
      const info = await fileSystemFor(path).stat(path);
      if (!info || info.isDirectory) throw new CorpusError(path, info ? 'a folder, not a corpus file' : 'not found');
      return info.size;
    },
    { concurrency: METADATA_REQUESTS_IN_FLIGHT },
  );
}
