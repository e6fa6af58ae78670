import type { FileSystem } from './file-system.js';
import { gcsFileSystem } from './gcs-file-system.js';
import { isGcsPath } from './gcs-path.js';
import { localFileSystem } from './local-file-system.js';

/** The file system a path lives on: Cloud Storage for `gs://bucket/…`, the local disk otherwise. The one place that looks at the scheme. */
export const fileSystemFor = (path: string): FileSystem => (isGcsPath(path) ? gcsFileSystem : localFileSystem);

/** The whole file, wherever it is. */
export const readFileAt = (path: string): Promise<Buffer> => fileSystemFor(path).readFile(path);

/** The whole file as UTF-8 text, wherever it is. */
export const readTextFile = async (path: string): Promise<string> => (await fileSystemFor(path).readFile(path)).toString('utf8');

/** Whether a file or folder is there. */
export const pathExists = async (path: string): Promise<boolean> => (await fileSystemFor(path).stat(path)) !== undefined;

/** Writes a whole file atomically, wherever it goes. */
export const writeFileAt = (path: string, data: string | Uint8Array): Promise<void> => fileSystemFor(path).writeFile(path, data);

/**
 * A file's bytes, or undefined when there is none. One read on either store: asking first whether
 * it exists would cost Cloud Storage a second request, and the answer could change before the read.
 */
export async function readOptionalFile(path: string): Promise<Buffer | undefined> {
  try {
    return await fileSystemFor(path).readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** `readOptionalFile` as UTF-8 text. */
export const readOptionalText = async (path: string): Promise<string | undefined> => (await readOptionalFile(path))?.toString('utf8');

/**
 * Requests kept in flight at once for per-file metadata work (stat, remove) over a folder: a
 * bucket can hold thousands of shards or corpus files, one request each, which go better a few
 * dozen at a time than one by one or all at once.
 */
export const METADATA_REQUESTS_IN_FLIGHT = 32;
