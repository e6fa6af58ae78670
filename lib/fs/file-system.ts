import type { Readable, Writable } from 'node:stream';

/** What `stat` tells of a path. */
export interface FileInfo {
  /** Bytes (0 for a folder). */
  readonly size: number;
  readonly isDirectory: boolean;
  /**
   * The CRC-32C of the whole file, unmasked, when the store keeps one (Cloud Storage does for every
   * object); undefined for local files, whose CRC costs a read.
   */
  readonly crc32c?: number;
  /** Last change, in milliseconds since 1970. */
  readonly modifiedMs: number;
}

/** One entry of a folder. */
export interface DirectoryEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

export interface ReadStreamOptions {
  /** First byte to read (default 0). */
  readonly start?: number;
  /** Last byte to read, inclusive (default: the end of the file). */
  readonly end?: number;
  /** Bytes per chunk, where the store lets the reader choose. */
  readonly highWaterMark?: number;
}

/**
 * A file being written that appears under its final name only when `commit()` completes: locally a
 * hidden temporary name renamed into place, on Cloud Storage an upload that the service finalizes
 * in one step. `abort()` (or any failure) leaves the final name as it was.
 */
export interface AtomicWriteStream {
  /** Where the bytes go. Write with backpressure (`write()` returning false means wait for 'drain'). */
  readonly stream: Writable;
  /** Ends the stream and publishes the file; rejects, and publishes nothing, if any write failed. */
  commit(): Promise<void>;
  /** Drops what was written; the final name is not created or changed. Safe to repeat. */
  abort(): Promise<void>;
}

/**
 * A file that grows in place and is read while it grows (a TensorBoard event file). Locally each
 * `append` is a write at the end; on Cloud Storage, which has no append, `flush` uploads the whole
 * object again (as TensorFlow's own GCS file system does), each upload replacing the last whole.
 */
export interface AppendableFile {
  readonly path: string;
  /** Adds bytes at the end; visible to readers after the next `flush`. */
  append(bytes: Uint8Array): Promise<void>;
  /** Makes everything appended visible (and, with `sync`, durable against a power loss where the store can tell). */
  flush(sync?: boolean): Promise<void>;
  close(): Promise<void>;
}

export interface WriteOptions {
  /** Local files: fsync before the rename (default true). Cloud Storage uploads are durable when finalized. */
  readonly fsync?: boolean;
}

/**
 * The one interface kbb reads and writes paths through: local paths and `gs://bucket/prefix` alike.
 * `fileSystemFor(path)` picks the implementation; stages never look at the scheme themselves.
 *
 * Errors name the path. A missing file is an error whose `code` is `ENOENT` on both.
 */
export interface FileSystem {
  /** `local` or `gcs`, for messages and for the few places that must differ (a local cache, say). */
  readonly kind: 'local' | 'gcs';
  /** The whole file. */
  readFile(path: string): Promise<Buffer>;
  /** `length` bytes from `start` (fewer if the file ends first): one ranged read, not the whole file. */
  readRange(path: string, start: number, length: number): Promise<Buffer>;
  /** The file as a stream, optionally a byte range of it. */
  createReadStream(path: string, options?: ReadStreamOptions): Readable;
  /** Size and kind of a file or folder; undefined when there is none. On Cloud Storage a folder is a prefix with objects under it. */
  stat(path: string): Promise<FileInfo | undefined>;
  /** The entries directly in a folder (Cloud Storage: one level of a prefix, listed with a `/` delimiter); [] when there is none. */
  list(dir: string): Promise<DirectoryEntry[]>;
  /** Every file under a folder, at any depth, as paths relative to it with `/` separators; [] when there is none. */
  listRecursive(dir: string): Promise<string[]>;
  /** Writes a whole file atomically: the old content or the new, never part of it. Its folder is created if needed. */
  writeFile(path: string, data: string | Uint8Array, options?: WriteOptions): Promise<void>;
  /** Starts a file that appears only on `commit()`. The folder is created if needed. */
  createWriteStream(path: string, options?: WriteOptions): AtomicWriteStream;
  /** Opens a new file (it must not exist) that grows in place. */
  createAppendable(path: string): Promise<AppendableFile>;
  /** Creates a folder and its parents (a no-op on Cloud Storage, where folders are prefixes). */
  mkdir(dir: string): Promise<void>;
  /** Removes a file; no error if it is not there. */
  remove(path: string): Promise<void>;
}
