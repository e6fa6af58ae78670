import { uncompressSync } from 'snappy';
import { crc32c } from '../checksum/crc32.js';
import { maskCrc } from '../checksum/masked-crc32c.js';
import { InputError } from '../fs/input-error.js';
import { pushVarint } from './varint.js';

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

/** A cursor over bytes with the varints LevelDB uses. */
class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
    private readonly what: () => string,
  ) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.bytes.length) throw new TableError(`${this.what()}: a varint runs past the end`);
      const b = this.bytes[this.at++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new TableError(`${this.what()}: a varint is larger than 2^53`);
        return result;
      }
      scale *= 128;
    }
    throw new TableError(`${this.what()}: a varint is longer than 10 bytes`);
  }

  handle(): BlockHandle {
    return { offset: this.varint(), size: this.varint() };
  }
}

/** One key/value pair of a table, in table order. */
export interface TableEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Every entry of a table held in memory (a checkpoint index is small: a few hundred bytes per tensor). */
export function readTable(bytes: Uint8Array, file: string): TableEntry[] {
  if (bytes.length < FOOTER_BYTES) throw new TableError(`${file}: ${bytes.length} bytes is too short for a table footer (${FOOTER_BYTES} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerAt = bytes.length - FOOTER_BYTES;
  if (view.getUint32(bytes.length - 8, true) !== MAGIC_LOW || view.getUint32(bytes.length - 4, true) !== MAGIC_HIGH) {
    throw new TableError(`${file}: bad magic number (not a TensorFlow checkpoint index, or truncated)`);
  }
  const footer = new Cursor(bytes, footerAt, () => `${file}: footer`);
  footer.handle(); // the metaindex block: TensorFlow writes it empty
  const indexHandle = footer.handle();
  const index = readBlock(bytes, indexHandle, file, 'index block');
  const entries: TableEntry[] = [];
  for (const { value } of blockEntries(index, `${file}: index block`)) {
    const handle = new Cursor(value, 0, () => `${file}: index entry`).handle();
    entries.push(...blockEntries(readBlock(bytes, handle, file, `data block at byte ${handle.offset}`), `${file}: data block at byte ${handle.offset}`));
  }
  return entries;
}

function readBlock(bytes: Uint8Array, handle: BlockHandle, file: string, what: string): Uint8Array {
  const end = handle.offset + handle.size;
  if (end + BLOCK_TRAILER_BYTES > bytes.length)
    throw new TableError(`${file}: ${what} (${handle.size} bytes at ${handle.offset}) runs past the end of the file (${bytes.length} bytes)`);
  const contents = bytes.subarray(handle.offset, end);
  const type = bytes[end];
  const stored = new DataView(bytes.buffer, bytes.byteOffset + end + 1, 4).getUint32(0, true);
  const actual = maskCrc(crc32c(bytes.subarray(end, end + 1), crc32c(contents)));
  if (stored !== actual) throw new TableError(`${file}: ${what}: block checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)})`);
  if (type === BlockType.None) return contents;
  if (type === BlockType.Snappy) {
    try {
      return new Uint8Array(uncompressSync(Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength)) as Buffer);
    } catch (error) {
      throw new TableError(`${file}: ${what}: bad Snappy data (${(error as Error).message})`);
    }
  }
  throw new TableError(`${file}: ${what}: unknown block compression type ${type}`);
}

/** The entries of one block: keys are stored as (shared prefix length, suffix), restarts at the end. */
function* blockEntries(block: Uint8Array, what: string): Generator<TableEntry> {
  if (block.length < 4) throw new TableError(`${what}: ${block.length} bytes is too short for a block`);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const restarts = view.getUint32(block.length - 4, true);
  const limit = block.length - 4 - 4 * restarts;
  if (limit < 0) throw new TableError(`${what}: ${restarts} restart points do not fit in ${block.length} bytes`);
  const cursor = new Cursor(block, 0, () => what);
  let key = new Uint8Array(0);
  while (cursor.at < limit) {
    const shared = cursor.varint();
    const unshared = cursor.varint();
    const valueLength = cursor.varint();
    if (shared > key.length || cursor.at + unshared + valueLength > limit) throw new TableError(`${what}: corrupt entry at byte ${cursor.at}`);
    const next = new Uint8Array(shared + unshared);
    next.set(key.subarray(0, shared));
    next.set(block.subarray(cursor.at, cursor.at + unshared), shared);
    cursor.at += unshared;
    key = next;
    yield { key, value: block.subarray(cursor.at, cursor.at + valueLength) };
    cursor.at += valueLength;
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
