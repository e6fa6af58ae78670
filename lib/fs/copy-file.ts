import { pipeline } from 'node:stream/promises';
import { fileSystemFor } from './file-system-for.js';

/**
 * Copies one file between any two places (local or `gs://`), streaming: the copy appears under its
 * name only when complete, as every kbb write does. `onBytes` hears of each chunk as it goes.
 */
export async function copyFile(from: string, to: string, onBytes?: (bytes: number) => void): Promise<void> {
  const source = fileSystemFor(from).createReadStream(from, { highWaterMark: 1 << 20 });
  if (onBytes) source.on('data', (chunk: Buffer) => onBytes(chunk.length));
  const target = fileSystemFor(to).createWriteStream(to);
  try {
    await pipeline(source, target.stream, { end: false });
    await target.commit();
  } catch (error) {
    await target.abort();
    throw error;
  }
}
