import { type FileHandle, open } from 'node:fs/promises';
import type { FileSystem } from './file-system.js';
import { fileSystemFor } from './file-system-for.js';
import { localFileSystem } from './local-file-system.js';

/**
 * A file read many times by byte range (a checkpoint's data shard, a `.safetensors` file), on the
 * local disk or in Cloud Storage. Each `read` is one ranged read of just those bytes, never a
 * download of the whole file.
 */
export interface RangedFile {
  readonly path: string;
  /**
   * `length` bytes from `start` (fewer if the file ends first), in a buffer of their own, so that a
   * typed array over `.buffer` is aligned and sees nothing else. A missing file rejects with `code`
   * `ENOENT` on either store.
   */
  read(start: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Node refuses single reads of 2 GiB or more; larger ranges go in pieces. */
const IO_CHUNK_BYTES = 1 << 30;

/**
 * Opens `path` for ranged reads through `fileSystem` (default: the one the path lives on). On the
 * local disk one file handle is opened at the first read and kept until `close`, so reading the
 * hundreds of tensors of a checkpoint costs one `open`, not one per tensor; elsewhere every read is
 * the file system's `readRange`.
 */
export function openRangedFile(path: string, fileSystem: FileSystem = fileSystemFor(path)): RangedFile {
  if (fileSystem !== localFileSystem) {
    return {
      path,
      read: async (start, length) => ownBuffer(await fileSystem.readRange(path, start, length)),
      close: async () => {},
    };
  }
  let handle: Promise<FileHandle> | undefined;
  return {
    path,
    async read(start, length) {
      if (!handle) {
        const opening = open(path, 'r');
        // A failed open is not kept: the next read tries again.
        opening.catch(() => {
          if (handle === opening) handle = undefined;
        });
        handle = opening;
      }
      const file = await handle;
      const bytes = Buffer.allocUnsafeSlow(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await file.read(bytes, got, Math.min(length - got, IO_CHUNK_BYTES), start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? bytes : bytes.subarray(0, got);
    },
    async close() {
      const opened = handle;
      handle = undefined;
      await (await opened?.catch(() => undefined))?.close();
    },
  };
}

/** The bytes in an ArrayBuffer of their own: a download may hand back a slice of a shared pool. */
const ownBuffer = (bytes: Buffer): Buffer => {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
};
