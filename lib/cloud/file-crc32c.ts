import { crc32c } from '../checksum/crc32.js';
import { fileSystemFor } from '../fs/file-system-for.js';

/**
 * The CRC-32C of a whole file, local or `gs://`, read as a stream (memory stays at one chunk).
 * `onBytes` hears of each chunk, for a progress display over many files.
 */
export async function crc32cOfFile(path: string, onBytes?: (bytes: number) => void, signal?: AbortSignal): Promise<number> {
  let crc = 0;
  const stream = fileSystemFor(path).createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      crc = crc32c(chunk, crc);
      onBytes?.(chunk.length);
    }
  } finally {
    stream.destroy();
  }
  return crc >>> 0;
}
