import { constants } from 'node:buffer';
import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import type { FileSystem } from '../fs/file-system.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { openRangedFile, type RangedFile } from '../fs/ranged-file.js';
import { elementCount, shapeText } from '../tensor/shape.js';
import { type BundleEntry, type BundleHeader, decodeEntry, decodeHeader } from './bundle-proto.js';
import { CheckpointError } from './checkpoint-error.js';
import { DTYPE_BYTES, type DType, decodeValues, dtypeFromCode, type TensorValues } from './dtypes.js';
import { readTable, type TableEntry, TableError } from './sstable.js';
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
 *
 * A checkpoint may come from anyone, so nothing in it is trusted: the index is decoded by
 * `readIndex` alone, which checks every entry (dtype, shape, shard, offset and size fit together)
 * and names the file, the byte and the variable of any problem; a tensor's extent is checked
 * against its data file's real size before its bytes are read. Every problem is a `CheckpointError`.
 */
export class CheckpointReader {
  private readonly byName: Map<string, CheckpointVariable>;
  private readonly shards = new Map<number, RangedFile>();
  /** Each data file's size, looked up once, at its first read. */
  private readonly shardSizes = new Map<number, Promise<number | undefined>>();

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
      throw new CheckpointError(`${indexFile}: cannot read the checkpoint index (${(error as Error).message})`, indexFile, { cause: error });
    }
    const { header, variables } = readIndex(bytes, indexFile);
    return new CheckpointReader(prefix, header, variables, fileSystem);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  variable(name: string): CheckpointVariable {
    const v = this.byName.get(name);
    if (!v) throw new CheckpointError(`${this.prefix}: no variable ${shownName(name)}`, `${this.prefix}.index`);
    return v;
  }

  /** The stored bytes of one tensor (one ranged read of its data shard), checked against the index's CRC. */
  async readBytes(name: string): Promise<Uint8Array> {
    const v = this.variable(name);
    const file = dataFileName(this.prefix, v.shardId, this.header.numShards);
    const shown = shownName(name);
    await this.checkExtent(v, file, shown);
    if (v.byteLength > MAX_READ_BYTES)
      throw new CheckpointError(`${file}: variable ${shown} holds ${v.byteLength} bytes, more than one read can hold (${MAX_READ_BYTES})`, file);
    let shard = this.shards.get(v.shardId);
    if (!shard) {
      shard = openRangedFile(file, this.fileSystem);
      this.shards.set(v.shardId, shard);
    }
    let bytes: Buffer;
    try {
      bytes = await shard.read(v.offset, v.byteLength);
    } catch (error) {
      throw shardError(error, file, shown);
    }
    if (bytes.length < v.byteLength)
      throw new CheckpointError(
        `${file}: data shard too short for variable ${shown} (needs bytes ${v.offset}–${v.offset + v.byteLength}, the file ends at ${v.offset + bytes.length})`,
        file,
      );
    const actual = v.dtype === 'string' ? readStringTensor(bytes, v.size, file, `variable ${shown}`).crc : maskedCrc32c(bytes);
    if (actual !== v.crc32c)
      throw new CheckpointError(
        `${file}: variable ${shown}: checksum mismatch (index says 0x${v.crc32c.toString(16)}, data gives 0x${actual.toString(16)})`,
        file,
      );
    return bytes;
  }

  /**
   * Checks, without reading any tensor, that every data file the variables need exists and holds
   * every variable's bytes (from each file's real size): what a command that writes from this
   * checkpoint checks before its first byte, so a truncated or missing shard stops it up front.
   * Checksums are checked as each tensor is read.
   */
  async checkDataFiles(): Promise<void> {
    for (const v of this.variables) await this.checkExtent(v, dataFileName(this.prefix, v.shardId, this.header.numShards), shownName(v.name));
  }

  /** Refuses a variable whose bytes lie past the end of its data file (its real size, not the index's word). */
  private async checkExtent(v: CheckpointVariable, file: string, shown: string): Promise<void> {
    const fileSize = await this.shardSize(v.shardId, file, shown);
    if (v.offset + v.byteLength > fileSize)
      throw new CheckpointError(
        `${file}: data shard too short for variable ${shown} (needs bytes ${v.offset}–${v.offset + v.byteLength}, the file ends at ${fileSize})`,
        file,
      );
  }

  /** One tensor, decoded (strings as byte arrays, float16/bfloat16 widened to float32). */
  async read(name: string): Promise<Tensor> {
    const v = this.variable(name);
    const bytes = await this.readBytes(name);
    if (v.dtype === 'string') {
      const file = dataFileName(this.prefix, v.shardId, this.header.numShards);
      return { name, dtype: 'string', shape: v.shape, values: readStringTensor(bytes, v.size, file, `variable ${shownName(name)}`).strings };
    }
    if (v.dtype.startsWith('unknown'))
      throw new CheckpointError(`${this.prefix}: variable ${shownName(name)} has DataType ${v.dtypeCode}, which kbb does not decode`, `${this.prefix}.index`);
    return { name, dtype: v.dtype as DType, shape: v.shape, values: decodeValues(v.dtype as Exclude<DType, 'string'>, bytes) };
  }

  /** A data file's real size (looked up once), so that no read is sized by the index alone. */
  private async shardSize(shardId: number, file: string, shown: string): Promise<number> {
    let size = this.shardSizes.get(shardId);
    if (size === undefined) {
      size = this.fileSystem.stat(file).then((info) => info?.size);
      this.shardSizes.set(shardId, size);
      // A failed lookup is not kept: the next read tries again.
      size.catch(() => this.shardSizes.delete(shardId));
    }
    let known: number | undefined;
    try {
      known = await size;
    } catch (error) {
      throw shardError(error, file, shown);
    }
    if (known === undefined) {
      this.shardSizes.delete(shardId);
      throw new CheckpointError(`${file}: missing data shard (needed for variable ${shown})`, file);
    }
    return known;
  }

  async close(): Promise<void> {
    const shards = [...this.shards.values()];
    this.shards.clear();
    await Promise.all(shards.map((shard) => shard.close()));
  }
}

/** Node's largest Buffer: a tensor larger than this (legal in a checkpoint) cannot be read whole. */
const MAX_READ_BYTES = constants.MAX_LENGTH;

function shardError(error: unknown, file: string, shown: string): CheckpointError {
  const e = error as NodeJS.ErrnoException;
  return new CheckpointError(
    e.code === 'ENOENT' ? `${file}: missing data shard (needed for variable ${shown})` : `${file}: cannot read (${e.message}; needed for variable ${shown})`,
    file,
    { cause: error },
  );
}

/** A name as messages show it: as is, or JSON-quoted when it holds what would break the line (a newline, a control character). */
export function shownName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is quoted.
  return /[\u0000-\u001f\u007f\u2028\u2029]/.test(name) || name === '' ? JSON.stringify(name) : name;
}

/**
 * The one place a TensorBundle index is decoded: the table, the header, every entry. Each problem is
 * a `CheckpointError` naming the index file, the byte (in the file, or in a compressed block) and,
 * for an entry, the variable; an entry's dtype, shape and size must agree, its shard exist, and its
 * extent be a safe integer range, before anything is sized by it.
 */
export function readIndex(bytes: Uint8Array, indexFile: string): { readonly header: BundleHeader; readonly variables: CheckpointVariable[] } {
  let entries: TableEntry[];
  try {
    entries = readTable(bytes, indexFile);
  } catch (error) {
    if (error instanceof TableError) throw new CheckpointError(error.message, indexFile, { cause: error });
    throw error;
  }
  if (entries.length === 0 || entries[0].key.length !== 0)
    throw new CheckpointError(`${indexFile}: no header entry (the empty key); not a TensorBundle index`, indexFile);
  const first = entries[0];
  const header = decodeHeader(first.value, (at, problem) => new CheckpointError(`${indexFile}: ${first.locate(at)}: header: ${problem}`, indexFile));
  const headerError = (problem: string): CheckpointError => new CheckpointError(`${indexFile}: ${first.locate(0)}: header: ${problem}`, indexFile);
  if (header.endianness !== 0) throw headerError('big-endian checkpoints are not supported');
  if (header.numShards < 1 && entries.length > 1) throw headerError(`num_shards is ${header.numShards}, but there are variables (expected at least 1)`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const variables = entries.slice(1).map(({ key, value, locate }): CheckpointVariable => {
    let name: string;
    try {
      name = decoder.decode(key);
    } catch {
      throw new CheckpointError(
        `${indexFile}: ${locate(0)}: a variable name that is not UTF-8 (hex ${Buffer.from(key.subarray(0, 64)).toString('hex')})`,
        indexFile,
      );
    }
    const shown = shownName(name);
    const fail = (at: number, problem: string): CheckpointError => new CheckpointError(`${indexFile}: ${locate(at)}: variable ${shown}: ${problem}`, indexFile);
    const entry = decodeEntry(value, fail);
    const problem = entryProblem(entry, header);
    if (problem !== undefined) throw fail(0, problem);
    const dtype = dtypeFromCode(entry.dtype) ?? (`unknown(${entry.dtype})` as const);
    return {
      name,
      dtype,
      dtypeCode: entry.dtype,
      shape: entry.shape,
      size: elementCount(entry.shape),
      shardId: entry.shardId,
      offset: entry.offset,
      byteLength: entry.size,
      crc32c: entry.crc32c,
    };
  });
  return { header, variables };
}

/** A shape for a message: a corrupt one may have up to 254 dimensions, which would not make one line. */
const shownShape = (shape: readonly number[]): string =>
  shape.length <= 8 ? shapeText(shape) : `${shapeText(shape.slice(0, 6)).slice(0, -1)}, … (${shape.length} dimensions)]`;

/** What is wrong with an entry, as one phrase, or undefined. Decoding already bounded each number by 2^53 (and int32s by 2^31). */
function entryProblem(entry: BundleEntry, header: BundleHeader): string | undefined {
  if (entry.hasSlices) return 'partitioned (slices), which kbb does not read';
  if (entry.shardId >= header.numShards) return `in shard ${entry.shardId}, but the header says ${header.numShards} shard(s)`;
  if (entry.dtype === 0) return 'no dtype (DT_INVALID)';
  if (entry.offset + entry.size > Number.MAX_SAFE_INTEGER) return `offset ${entry.offset} + size ${entry.size} is past 2^53`;
  let elements = 1;
  for (const dim of entry.shape) {
    elements *= dim;
    if (elements > Number.MAX_SAFE_INTEGER) return `shape ${shownShape(entry.shape)} has more than 2^53 elements`;
  }
  const dtype = dtypeFromCode(entry.dtype);
  if (dtype === 'string') {
    // Each element's length takes at least one byte, and the lengths' checksum four.
    if (entry.size < elements + 4) return `${entry.size} bytes stored, but a string tensor of shape ${shownShape(entry.shape)} needs at least ${elements + 4}`;
  } else if (dtype !== undefined && entry.size !== elements * DTYPE_BYTES[dtype]) {
    return `${entry.size} bytes stored, but ${dtype} ${shownShape(entry.shape)} needs ${elements * DTYPE_BYTES[dtype]}`;
  }
  return undefined;
}
