import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `path` through `write(handle)` under a hidden temporary name in the same folder, fsyncs
 * (unless `fsync` is false) and renames it into place; on any error the temporary file is removed.
 * So `path` either keeps what it had or holds the complete new file, never half of one.
 */
export async function writeFileAtomically(path: string, write: (handle: FileHandle) => Promise<void>, options: { readonly fsync?: boolean } = {}): Promise<void> {
  const tempPath = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
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
