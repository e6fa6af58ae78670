import type { Writable } from 'node:stream';
import type { WriteOptions } from './file-system.js';
import { fileSystemFor } from './file-system-for.js';

/** Where a writer puts its bytes, in order: a stream, or a local file handle (whose `write` appends). */
export interface ByteSink {
  /** Resolves once the bytes are taken, so a writer that awaits each write holds only what it is writing. */
  write(bytes: Uint8Array): Promise<unknown>;
}

/** Node refuses single writes of 2 GiB or more; larger buffers go in pieces. */
const IO_CHUNK_BYTES = 1 << 30;

/**
 * Writes `bytes` to a stream, resolving once the stream has taken them: for a file, once written;
 * for an upload, once its buffer has room again. So memory stays bounded by what is awaited.
 */
export async function writeToStream(stream: Writable, bytes: Uint8Array): Promise<void> {
  for (let start = 0; start < bytes.length; start += IO_CHUNK_BYTES) {
    const chunk = bytes.subarray(start, start + IO_CHUNK_BYTES);
    await new Promise<void>((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));
  }
}

/**
 * Writes one file, local or `gs://`, through `write`, which puts its bytes into the sink in order.
 * The file appears under `path` only when `write` has finished (locally a temporary name renamed,
 * in a bucket an upload finalized whole); if `write` throws, nothing is left behind and the error
 * is rethrown as it was.
 */
export async function writeFileStreamed(path: string, write: (sink: ByteSink) => Promise<void>, options: WriteOptions = {}): Promise<void> {
  const target = fileSystemFor(path).createWriteStream(path, options);
  try {
    await write({ write: (bytes) => writeToStream(target.stream, bytes) });
    await target.commit();
  } catch (error) {
    await target.abort();
    throw error;
  }
}
