import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/*
 * kbb's one way to write a file safely: under a hidden temporary name in the same folder, flushed to
 * disk, then renamed over the final name. A reader, a crash or a kill -9 sees the old file or the
 * complete new one, never half of one; a leftover temporary name is hidden (`.NAME.tmp-…`).
 */

let counter = 0;

/** A hidden temporary name beside `path`, unique in this process: `.NAME.tmp-PID-N`. */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${++counter}`);
}

export interface AtomicWriteOptions {
  /** Flush the file to disk before the rename (default true). */
  readonly fsync?: boolean;
}

/**
 * Writes `path` through `write(handle)` under a temporary name, flushes it (unless `fsync` is false)
 * and renames it into place; on any error the temporary file is removed and the error rethrown. So
 * `path` either keeps what it had or holds the complete new file.
 */
export async function writeFileAtomically(path: string, write: (handle: FileHandle) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  const tempPath = temporaryPath(path);
  const handle = await open(tempPath, 'wx');
  let closed = false;
  try {
    await write(handle);
    if (options.fsync ?? true) await handle.sync();
    closed = true;
    await handle.close();
    await rename(tempPath, path);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
}

/** `writeFileAtomically` of a whole string (UTF-8) or byte array; a failure names the file. */
export async function writeBytesAtomically(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  try {
    await writeFileAtomically(path, (handle) => handle.writeFile(data), options);
  } catch (error) {
    throw new Error(`${path}: cannot write (${(error as Error).message})`, { cause: error });
  }
}
