import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import type { AtomicWriteStream } from '../fs/file-system.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { joinPath, parentPath } from '../fs/paths.js';
import { isProcessAlive } from '../fs/process-alive.js';
import { writeToStream } from '../fs/streamed-write.js';
import { elementCount } from '../tensor/shape.js';
import { type BundleHeader, encodeEntry, encodeHeader } from './bundle-proto.js';
import { CheckpointError } from './checkpoint-error.js';
import { DTYPE_BYTES, type DType, TF_DTYPES } from './dtypes.js';
import { TableBuilder } from './sstable.js';
import { writeStringTensor } from './string-tensor.js';
import { dataFileName } from './tensor-bundle-reader.js';

/** A tensor to write: raw little-endian bytes (or, for strings, the elements), given or fetched when its turn comes. */
export interface TensorToWrite {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array | readonly Uint8Array[] | (() => Promise<Uint8Array | readonly Uint8Array[]>);
  /** Data shard (default 0). */
  readonly shard?: number;
}

export interface CheckpointWriteOptions {
  /** Data shards (default 1). */
  readonly numShards?: number;
  readonly version?: BundleHeader['version'];
  /**
   * Runs once every tensor is written and checked, just before the files take their final names:
   * the last moment to retract what names the old checkpoint (a `checkpoint` state file), so that
   * nothing ever names the prefix while its old index is gone and its new one not yet there.
   */
  readonly beforeCommit?: () => Promise<void>;
}

/**
 * Writes a TensorBundle checkpoint TensorFlow reads, to a local folder or a `gs://` prefix: data files
 * in the order the tensors come (each fetched when its turn comes, so at most two tensors are in
 * memory: one being written, the next), then the index, sorted by name, built as TensorFlow's writer
 * builds it. Every file appears under its final name only when complete (locally a temporary name
 * renamed, in a bucket an upload finalized whole), the data files before the index: the index is
 * what makes the checkpoint exist, so a crash or an error leaves no index rather than half a
 * checkpoint.
 */
export async function writeCheckpoint(
  prefix: string,
  tensors: Iterable<TensorToWrite> | AsyncIterable<TensorToWrite>,
  options: CheckpointWriteOptions = {},
): Promise<void> {
  const fileSystem = fileSystemFor(prefix);
  const numShards = options.numShards ?? 1;
  const files = Array.from({ length: numShards }, (_, shard) => dataFileName(prefix, shard, numShards));
  const shards: AtomicWriteStream[] = [];
  const offsets = new Array<number>(numShards).fill(0);
  const entries = new Map<string, Uint8Array>();
  let writing: Promise<void> = Promise.resolve();
  try {
    await fileSystem.mkdir(parentPath(prefix));
    for (const file of files) shards.push(fileSystem.createWriteStream(file));
    // One tensor is written while the next is fetched and checksummed: the write runs on libuv's
    // thread pool (or goes up to the bucket), the fetch (a copy out of the backend) and the CRC on this thread.
    for await (const tensor of tensors) {
      const shard = tensor.shard ?? 0;
      if (!(shard >= 0 && shard < numShards)) throw new CheckpointError(`${prefix}: variable ${tensor.name} is for shard ${shard}, but there are ${numShards}`);
      if (entries.has(tensor.name)) throw new CheckpointError(`${prefix}: variable ${tensor.name} given twice`);
      const { bytes, crc } = encodeTensorData(prefix, tensor, typeof tensor.data === 'function' ? await tensor.data() : tensor.data);
      await writing;
      writing = writeToStream(shards[shard].stream, bytes);
      // Seen when awaited; until then a failure must not count as unhandled.
      writing.catch(() => {});
      entries.set(
        tensor.name,
        encodeEntry({ dtype: TF_DTYPES[tensor.dtype], shape: tensor.shape, shardId: shard, offset: offsets[shard], size: bytes.length, crc32c: crc }),
      );
      offsets[shard] += bytes.length;
    }
    await writing;
    const table = new TableBuilder();
    table.add(new Uint8Array(0), encodeHeader({ numShards, endianness: 0, version: options.version ?? { producer: 1, minConsumer: 0, badConsumers: [] } }));
    const encoder = new TextEncoder();
    const keyed = [...entries].map(([name, entry]) => [encoder.encode(name), entry] as const).sort(([a], [b]) => Buffer.compare(a, b));
    for (const [key, entry] of keyed) table.add(key, entry);
    const index = table.finish();
    await options.beforeCommit?.();
    // A checkpoint replaced in place: its old index goes before its data files are replaced, so that
    // a kill between the two leaves no checkpoint rather than an old index over new data. Until now
    // (every tensor read and written) a failure has left the old checkpoint whole.
    await fileSystem.remove(`${prefix}.index`);
    // The data files first, the index last: the index is what makes the checkpoint exist.
    await Promise.all(shards.map((shard) => shard.commit()));
    await fileSystem.writeFile(`${prefix}.index`, index);
  } catch (error) {
    await writing.catch(() => {});
    await Promise.all(shards.map((shard) => shard.abort()));
    throw error;
  }
}

/** A tensor's bytes in the data file and their masked CRC-32C, after checking them against its dtype and shape. */
function encodeTensorData(prefix: string, tensor: TensorToWrite, data: Uint8Array | readonly Uint8Array[]): { bytes: Uint8Array; crc: number } {
  const elements = elementCount(tensor.shape);
  if (tensor.dtype === 'string') {
    if (!Array.isArray(data) || data.length !== elements)
      throw new CheckpointError(`${prefix}: variable ${tensor.name}: a string tensor of shape ${JSON.stringify(tensor.shape)} needs ${elements} elements`);
    return writeStringTensor(data as Uint8Array[]);
  }
  if (!(data instanceof Uint8Array)) throw new CheckpointError(`${prefix}: variable ${tensor.name}: ${tensor.dtype} data must be bytes`);
  const expected = elements * DTYPE_BYTES[tensor.dtype];
  if (data.length !== expected)
    throw new CheckpointError(
      `${prefix}: variable ${tensor.name}: ${data.length} bytes given, ${tensor.dtype} ${JSON.stringify(tensor.shape)} needs ${expected}`,
    );
  return { bytes: data, crc: maskedCrc32c(data) };
}

/**
 * Removes the hidden temporaries (`.NAME.tmp-PID-N`) that a killed writer left in `dir`, for the
 * names `isOurs` accepts, when process PID is gone: kill -9 leaves them, and without this they
 * would pile up with every interrupted run. Returns the names removed. Only local folders have any:
 * an unfinished Cloud Storage upload never becomes an object.
 */
export async function removeStaleTemporaries(dir: string, isOurs: (name: string) => boolean): Promise<string[]> {
  const stale = /^\.(.+)\.tmp-(\d+)-\d+$/;
  const fs = fileSystemFor(dir);
  if (fs.kind !== 'local') return [];
  const removed: string[] = [];
  for (const { name, isDirectory } of await fs.list(dir)) {
    const match = stale.exec(name);
    if (isDirectory || !match || !isOurs(match[1]) || isProcessAlive(Number(match[2]))) continue;
    await fs.remove(joinPath(dir, name));
    removed.push(name);
  }
  return removed;
}
