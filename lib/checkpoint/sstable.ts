import { uncompressSync } from 'snappy';
import { crc32c } from '../checksum/crc32.js';
import { maskCrc } from '../checksum/masked-crc32c.js';
import { InputError } from '../fs/input-error.js';
import { ByteCursor, pushVarint } from './varint.js';

/**
 * The LevelDB-style sorted table TensorFlow writes as a checkpoint's `.index` (tensorflow/core/lib/io:
 * table_builder.cc, block_builder.cc, format.cc). Keys and values are bytes; keys are in bytewise order.
 */

/** `kTableMagicNumber`, stored little-endian as the footer's last 8 bytes. */
const MAGIC_LOW = 0x8b80fb57;
const MAGIC_HIGH = 0xdb477524;
export const FOOTER_BYTES = 48;
const BLOCK_TRAILER_BYTES = 5;

enum BlockType {
  None = 0,
  Snappy = 1,
}

export class TableError extends InputError {
  override name = 'TableError';

  constructor(message: string, file?: string, options?: ErrorOptions) {
    super(file, message, options);
  }
}

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** One key/value pair of a table, in table order. */
export interface TableEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Where byte `at` of `value` lies, for an error about the value: its byte in the file, or its place in a compressed block. */
  readonly locate: (at: number) => string;
}

/**
 * Snappy output is at most about 21 times its input (a 3-byte copy yields 64 bytes): a block whose
 * stated length is more than this is corrupt, and is refused before anything is allocated for it.
 */
const SNAPPY_MAX_RATIO = 22;
/**
 * Keys are stored as a prefix shared with the previous key plus a suffix, so a few bytes can state
 * a long key; a corrupt block could state ever longer ones. The keys kept are bounded by this many
 * bytes per byte of table (real indexes need about 2) plus this floor.
 */
const KEY_BYTES_PER_TABLE_BYTE = 32;
const KEY_BYTES_FLOOR = 1 << 20;

/** A place in the table file, for errors: `describe(at)` says where byte `at` of the block is. */
interface BlockPlace {
  readonly file: string;
  readonly name: string;
  readonly offset: number;
  readonly compressed: boolean;
}

const describe = (place: BlockPlace, at: number): string =>
  place.compressed
    ? `${place.name} at byte ${place.offset} (Snappy-compressed), byte ${at} of its uncompressed contents`
    : `byte ${place.offset + at} (${place.name} at byte ${place.offset})`;

const failIn =
  (place: BlockPlace) =>
  (at: number, problem: string): TableError =>
    new TableError(`${place.file}: ${describe(place, at)}: ${problem}`, place.file);

/**
 * Every entry of a table held in memory (a checkpoint index is small: a few hundred bytes per
 * tensor). Every structure is checked before it is used: the footer's handles, each block's extent,
 * checksum, compression and restart array, each entry's lengths, and that data blocks come in file
 * order without overlapping and keys in strictly increasing order (so no block is read twice, and
 * work and memory stay in proportion to the file). Problems throw a `TableError` naming the file
 * and the byte.
 */
export function readTable(bytes: Uint8Array, file: string): TableEntry[] {
  if (bytes.length < FOOTER_BYTES) throw new TableError(`${file}: ${bytes.length} bytes is too short for a table footer (${FOOTER_BYTES} bytes)`, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerAt = bytes.length - FOOTER_BYTES;
  if (view.getUint32(bytes.length - 8, true) !== MAGIC_LOW || view.getUint32(bytes.length - 4, true) !== MAGIC_HIGH) {
    throw new TableError(`${file}: bad magic number (not a TensorFlow checkpoint index, or truncated)`, file);
  }
  const footer = new ByteCursor(bytes, footerAt, bytes.length - 8, (at, problem) => new TableError(`${file}: footer, byte ${at}: ${problem}`, file));
  readHandle(footer, 'metaindex block handle'); // TensorFlow writes it empty; kbb has no use for it
  const indexHandle = readHandle(footer, 'index block handle');
  const indexPlace = { file, name: 'index block', offset: indexHandle.offset, compressed: false };
  const { contents: index, compressed } = readBlock(bytes, indexHandle, indexPlace);
  const keyBudget = { left: KEY_BYTES_FLOOR + KEY_BYTES_PER_TABLE_BYTE * bytes.length };
  const entries: TableEntry[] = [];
  let nextBlock = 0;
  for (const { value, locate } of blockEntries(index, { ...indexPlace, compressed }, keyBudget)) {
    const handle = readHandle(
      new ByteCursor(value, 0, value.length, (at, problem) => new TableError(`${file}: ${locate(at)}: ${problem}`, file)),
      'data block handle',
    );
    if (handle.offset < nextBlock)
      throw new TableError(
        `${file}: ${locate(0)}: the data block at byte ${handle.offset} overlaps or comes before the previous one (which ends at byte ${nextBlock})`,
        file,
      );
    nextBlock = handle.offset + handle.size + BLOCK_TRAILER_BYTES;
    const place = { file, name: 'data block', offset: handle.offset, compressed: false };
    const block = readBlock(bytes, handle, place);
    for (const entry of blockEntries(block.contents, { ...place, compressed: block.compressed }, keyBudget)) {
      const previous = entries.at(-1);
      if (previous !== undefined && compareBytes(entry.key, previous.key) <= 0)
        throw new TableError(`${file}: ${entry.locate(0)}: keys out of order (a table's keys strictly increase)`, file);
      entries.push(entry);
    }
  }
  return entries;
}

function readHandle(cursor: ByteCursor, what: string): BlockHandle {
  return { offset: cursor.varint(`${what}: offset`), size: cursor.varint(`${what}: size`) };
}

/** A block's contents, after checking its extent and checksum, uncompressed. */
function readBlock(bytes: Uint8Array, handle: BlockHandle, place: BlockPlace): { contents: Uint8Array; compressed: boolean } {
  const { file, name } = place;
  const end = handle.offset + handle.size;
  if (end + BLOCK_TRAILER_BYTES > bytes.length - FOOTER_BYTES)
    throw new TableError(
      `${file}: ${name} (${handle.size} bytes at byte ${handle.offset}, plus a ${BLOCK_TRAILER_BYTES}-byte trailer) runs past the blocks, which end at byte ${bytes.length - FOOTER_BYTES}`,
      file,
    );
  const contents = bytes.subarray(handle.offset, end);
  const type = bytes[end];
  const stored = new DataView(bytes.buffer, bytes.byteOffset + end + 1, 4).getUint32(0, true);
  const actual = maskCrc(crc32c(bytes.subarray(end, end + 1), crc32c(contents)));
  if (stored !== actual)
    throw new TableError(
      `${file}: ${name} at byte ${handle.offset}: block checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)})`,
      file,
    );
  if (type === BlockType.None) return { contents, compressed: false };
  if (type === BlockType.Snappy) {
    // Snappy's raw format starts with the uncompressed length: check it before the library allocates it.
    const stated = new ByteCursor(contents, 0, contents.length, failIn(place)).varint('Snappy uncompressed length');
    if (stated > SNAPPY_MAX_RATIO * contents.length)
      throw new TableError(
        `${file}: ${name} at byte ${handle.offset}: Snappy data states ${stated} bytes uncompressed, more than ${contents.length} compressed bytes can hold`,
        file,
      );
    let out: Uint8Array;
    try {
      out = new Uint8Array(uncompressSync(Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength)) as Buffer);
    } catch (error) {
      throw new TableError(`${file}: ${name} at byte ${handle.offset}: bad Snappy data (${(error as Error).message})`, file, { cause: error });
    }
    return { contents: out, compressed: true };
  }
  throw new TableError(`${file}: ${name} at byte ${handle.offset}: unknown block compression type ${type} (expected 0, none, or 1, Snappy)`, file);
}

/** The entries of one block: keys are stored as (shared prefix length, suffix), restarts at the end. */
function* blockEntries(block: Uint8Array, place: BlockPlace, keyBudget: { left: number }): Generator<TableEntry> {
  const fail = failIn(place);
  if (block.length < 4) throw fail(0, `${block.length} bytes is too short for a block (at least 4: the restart count)`);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const restarts = view.getUint32(block.length - 4, true);
  const limit = block.length - 4 - 4 * restarts;
  if (limit < 0) throw fail(block.length - 4, `${restarts} restart points do not fit in the block's ${block.length} bytes`);
  const cursor = new ByteCursor(block, 0, limit, fail);
  let key = new Uint8Array(0);
  while (cursor.remaining > 0) {
    const at = cursor.at;
    const shared = cursor.varint('entry: shared key length');
    const unshared = cursor.varint('entry: key suffix length');
    const valueLength = cursor.varint('entry: value length');
    if (shared > key.length) throw fail(at, `entry: shares ${shared} key bytes with the previous key, which has ${key.length}`);
    if (unshared + valueLength > cursor.remaining)
      throw fail(at, `entry: key suffix and value (${unshared} + ${valueLength} bytes) run past the block's entries (${cursor.remaining} bytes left)`);
    keyBudget.left -= shared + unshared;
    if (keyBudget.left < 0) throw fail(at, 'entry: the keys stated so far add up to far more bytes than the table holds (corrupt key prefix lengths)');
    const next = new Uint8Array(shared + unshared);
    next.set(key.subarray(0, shared));
    next.set(cursor.take(unshared, 'entry: key suffix'), shared);
    key = next;
    const valueAt = cursor.at;
    const value = cursor.take(valueLength, 'entry: value');
    yield { key, value, locate: (offset) => describe(place, valueAt + offset) };
  }
}

export interface TableWriteOptions {
  /** Uncompressed bytes per data block before it is cut (TensorFlow's `table::Options` default). */
  readonly blockSize?: number;
  /** Keys between full (unshared) keys (TensorFlow's default). */
  readonly restartInterval?: number;
}

/**
 * Builds a table exactly as TensorFlow's `TableBuilder` without compression: entries must be added
 * in strictly increasing bytewise key order.
 */
export class TableBuilder {
  private readonly chunks: Uint8Array[] = [];
  private offset = 0;
  private readonly block: BlockBuilder;
  private readonly index: BlockBuilder;
  private lastKey: Uint8Array = new Uint8Array(0);
  private entries = 0;
  private pendingHandle: BlockHandle | undefined;
  private readonly blockSize: number;

  constructor(options: TableWriteOptions = {}) {
    const restartInterval = options.restartInterval ?? 16;
    this.blockSize = options.blockSize ?? 262144;
    this.block = new BlockBuilder(restartInterval);
    // The index block restarts at every key (table_builder.cc: index_block_options.block_restart_interval = 1).
    this.index = new BlockBuilder(1);
  }

  add(key: Uint8Array, value: Uint8Array): void {
    if (this.entries > 0 && compareBytes(key, this.lastKey) <= 0)
      throw new TableError(
        `table keys must be added in increasing order (${JSON.stringify(Buffer.from(key).toString())} after ${JSON.stringify(Buffer.from(this.lastKey).toString())})`,
      );
    if (this.pendingHandle) {
      this.index.add(shortestSeparator(this.lastKey, key), encodeHandle(this.pendingHandle));
      this.pendingHandle = undefined;
    }
    this.block.add(key, value);
    this.lastKey = key.slice();
    this.entries++;
    if (this.block.estimatedSize() >= this.blockSize) this.flush();
  }

  /** The whole table: data blocks, the (empty) metaindex block, the index block, the footer. */
  finish(): Uint8Array {
    this.flush();
    const metaindex = this.writeBlock(new BlockBuilder(16).finish());
    if (this.pendingHandle) {
      this.index.add(shortSuccessor(this.lastKey), encodeHandle(this.pendingHandle));
      this.pendingHandle = undefined;
    }
    const index = this.writeBlock(this.index.finish());
    const footer = new Uint8Array(FOOTER_BYTES);
    const handles = Buffer.concat([encodeHandle(metaindex), encodeHandle(index)]);
    footer.set(handles);
    const view = new DataView(footer.buffer);
    view.setUint32(40, MAGIC_LOW, true);
    view.setUint32(44, MAGIC_HIGH, true);
    this.chunks.push(footer);
    return Buffer.concat(this.chunks);
  }

  private flush(): void {
    if (this.block.empty()) return;
    this.pendingHandle = this.writeBlock(this.block.finish());
    this.block.reset();
  }

  private writeBlock(contents: Uint8Array): BlockHandle {
    const handle = { offset: this.offset, size: contents.length };
    const trailer = new Uint8Array(BLOCK_TRAILER_BYTES);
    trailer[0] = BlockType.None;
    new DataView(trailer.buffer).setUint32(1, maskCrc(crc32c(trailer.subarray(0, 1), crc32c(contents))), true);
    this.chunks.push(contents, trailer);
    this.offset += contents.length + BLOCK_TRAILER_BYTES;
    return handle;
  }
}

class BlockBuilder {
  private bytes: number[] = [];
  private restarts: number[] = [0];
  private counter = 0;
  private lastKey: Uint8Array = new Uint8Array(0);
  private finished = false;

  constructor(private readonly restartInterval: number) {}

  reset(): void {
    this.bytes = [];
    this.restarts = [0];
    this.counter = 0;
    this.lastKey = new Uint8Array(0);
    this.finished = false;
  }

  empty(): boolean {
    return this.bytes.length === 0;
  }

  estimatedSize(): number {
    return this.bytes.length + 4 * this.restarts.length + 4;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const max = Math.min(key.length, this.lastKey.length);
      while (shared < max && key[shared] === this.lastKey[shared]) shared++;
    } else {
      this.restarts.push(this.bytes.length);
      this.counter = 0;
    }
    pushVarint(this.bytes, shared);
    pushVarint(this.bytes, key.length - shared);
    pushVarint(this.bytes, value.length);
    for (let i = shared; i < key.length; i++) this.bytes.push(key[i]);
    for (let i = 0; i < value.length; i++) this.bytes.push(value[i]);
    this.lastKey = key;
    this.counter++;
  }

  finish(): Uint8Array {
    if (this.finished) throw new Error('block finished twice');
    this.finished = true;
    const out = new Uint8Array(this.bytes.length + 4 * this.restarts.length + 4);
    out.set(this.bytes);
    const view = new DataView(out.buffer);
    let at = this.bytes.length;
    for (const restart of this.restarts) {
      view.setUint32(at, restart, true);
      at += 4;
    }
    view.setUint32(at, this.restarts.length, true);
    return out;
  }
}

function encodeHandle(handle: BlockHandle): Uint8Array {
  const out: number[] = [];
  pushVarint(out, handle.offset);
  pushVarint(out, handle.size);
  return Uint8Array.from(out);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** BytewiseComparator::FindShortestSeparator: a short key k with start <= k < limit. */
function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  const n = Math.min(start.length, limit.length);
  let diff = 0;
  while (diff < n && start[diff] === limit[diff]) diff++;
  if (diff < n) {
    const byte = start[diff];
    if (byte < 0xff && byte + 1 < limit[diff]) {
      const out = start.slice(0, diff + 1);
      out[diff]++;
      return out;
    }
  }
  return start.slice();
}

/** BytewiseComparator::FindShortSuccessor: a short key k >= key. */
function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0xff) {
      const out = key.slice(0, i + 1);
      out[i]++;
      return out;
    }
  }
  return key.slice();
}
