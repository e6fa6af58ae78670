import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import type { FileSystem } from '../fs/file-system.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { openRangedFile, type RangedFile } from '../fs/ranged-file.js';
import { elementCount } from '../tensor/shape.js';
import { type BundleHeader, decodeEntry, decodeHeader } from './bundle-proto.js';
import { CheckpointError } from './checkpoint-error.js';
import { DTYPE_BYTES, type DType, decodeValues, dtypeFromCode, type TensorValues } from './dtypes.js';
import { readTable, TableError } from './sstable.js';
import { readStringTensor } from './string-tensor.js';

/** One variable of a checkpoint, as `tf.train.list_variables` shows it, plus where its bytes are. */
export interface CheckpointVariable {
  readonly name: string;
  /** `unknown(N)` for a DataType kbb does not decode (its bytes can still be copied). */
  readonly dtype: DType | `unknown(${number})`;
  readonly dtypeCode: number;
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  readonly shardId: number;
  readonly offset: number;
  readonly byteLength: number;
  readonly crc32c: number;
}

export interface Tensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly values: TensorValues;
}

export const dataFileName = (prefix: string, shard: number, numShards: number): string =>
  `${prefix}.data-${String(shard).padStart(5, '0')}-of-${String(numShards).padStart(5, '0')}`;

export interface CheckpointReaderOptions {
  /** The file system to read through (default: the one the prefix lives on, local or `gs://`). */
  readonly fileSystem?: FileSystem;
}

/**
 * A TensorFlow checkpoint (TensorBundle: `PREFIX.index` + `PREFIX.data-NNNNN-of-NNNNN`), local or in
 * a `gs://` bucket. Opening reads only the index; each tensor is read on demand with one ranged read
 * of its bytes, checked against its CRC, so reading one variable of a 1.3 GB checkpoint reads just
 * that variable, from a bucket as from the disk.
 */
export class CheckpointReader {
  private readonly byName: Map<string, CheckpointVariable>;
  private readonly shards = new Map<number, RangedFile>();

  private constructor(
    readonly prefix: string,
    readonly header: BundleHeader,
    /** In the index's order: sorted by name (bytewise). */
    readonly variables: readonly CheckpointVariable[],
    private readonly fileSystem: FileSystem,
  ) {
    this.byName = new Map(variables.map((v) => [v.name, v]));
  }

  static async open(prefix: string, options: CheckpointReaderOptions = {}): Promise<CheckpointReader> {
    const fileSystem = options.fileSystem ?? fileSystemFor(prefix);
    const indexFile = `${prefix}.index`;
    let bytes: Uint8Array;
    try {
      bytes = await fileSystem.readFile(indexFile);
    } catch (error) {
      throw new CheckpointError(`${indexFile}: cannot read the checkpoint index (${(error as Error).message})`);
    }
    let entries: ReturnType<typeof readTable>;
    try {
      entries = readTable(bytes, indexFile);
    } catch (error) {
      if (error instanceof TableError) throw new CheckpointError(error.message);
      throw error;
    }
    if (entries.length === 0 || entries[0].key.length !== 0)
      throw new CheckpointError(`${indexFile}: no header entry (the empty key); not a TensorBundle index`);
    const header = decodeHeader(entries[0].value);
    if (header.endianness !== 0) throw new CheckpointError(`${indexFile}: big-endian checkpoints are not supported`);
    const decoder = new TextDecoder('utf-8', { fatal: false });
    const variables = entries.slice(1).map(({ key, value }): CheckpointVariable => {
      const name = decoder.decode(key);
      const entry = decodeEntry(value);
      if (entry.hasSlices) throw new CheckpointError(`${indexFile}: variable ${name} is partitioned (slices), which kbb does not read`);
      if (entry.shardId >= header.numShards)
        throw new CheckpointError(`${indexFile}: variable ${name} is in shard ${entry.shardId}, but the header says ${header.numShards} shard(s)`);
      const dtype = dtypeFromCode(entry.dtype) ?? (`unknown(${entry.dtype})` as const);
      const size = elementCount(entry.shape);
      if (dtype !== 'string' && !dtype.startsWith('unknown') && entry.size !== size * DTYPE_BYTES[dtype as Exclude<DType, 'string'>]) {
        throw new CheckpointError(
          `${indexFile}: variable ${name}: ${entry.size} bytes stored, but ${dtype} ${JSON.stringify(entry.shape)} needs ${size * DTYPE_BYTES[dtype as Exclude<DType, 'string'>]}`,
        );
      }
      return {
        name,
        dtype,
        dtypeCode: entry.dtype,
        shape: entry.shape,
        size,
        shardId: entry.shardId,
        offset: entry.offset,
        byteLength: entry.size,
        crc32c: entry.crc32c,
      };
    });
    return new CheckpointReader(prefix, header, variables, fileSystem);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  variable(name: string): CheckpointVariable {
    const v = this.byName.get(name);
    if (!v) throw new CheckpointError(`${this.prefix}: no variable ${name}`);
    return v;
  }

  /** The stored bytes of one tensor (one ranged read of its data shard), checked against the index's CRC. */
  async readBytes(name: string): Promise<Uint8Array> {
    const v = this.variable(name);
    const file = dataFileName(this.prefix, v.shardId, this.header.numShards);
    let shard = this.shards.get(v.shardId);
    if (!shard) {
      shard = openRangedFile(file, this.fileSystem);
      this.shards.set(v.shardId, shard);
    }
    let bytes: Buffer;
    try {
      bytes = await shard.read(v.offset, v.byteLength);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new CheckpointError(
        e.code === 'ENOENT' ? `${file}: missing data shard (needed for variable ${name})` : `${file}: cannot read (${e.message}; needed for variable ${name})`,
      );
    }
    if (bytes.length < v.byteLength)
      throw new CheckpointError(
        `${file}: data shard too short for variable ${name} (needs bytes ${v.offset}–${v.offset + v.byteLength}, the file ends at ${v.offset + bytes.length})`,
      );
    const actual = v.dtype === 'string' ? readStringTensor(bytes, v.size, `${file}: variable ${name}`).crc : maskedCrc32c(bytes);
    if (actual !== v.crc32c)
      throw new CheckpointError(`${file}: variable ${name}: checksum mismatch (index says 0x${v.crc32c.toString(16)}, data gives 0x${actual.toString(16)})`);
    return bytes;
  }

  /** One tensor, decoded (strings as byte arrays, float16/bfloat16 widened to float32). */
  async read(name: string): Promise<Tensor> {
    const v = this.variable(name);
    const bytes = await this.readBytes(name);
    if (v.dtype === 'string') return { name, dtype: 'string', shape: v.shape, values: readStringTensor(bytes, v.size, name).strings };
    if (v.dtype.startsWith('unknown')) throw new CheckpointError(`${this.prefix}: variable ${name} has DataType ${v.dtypeCode}, which kbb does not decode`);
    return { name, dtype: v.dtype as DType, shape: v.shape, values: decodeValues(v.dtype as Exclude<DType, 'string'>, bytes) };
  }

  async close(): Promise<void> {
    const shards = [...this.shards.values()];
    this.shards.clear();
    await Promise.all(shards.map((shard) => shard.close()));
  }
}
