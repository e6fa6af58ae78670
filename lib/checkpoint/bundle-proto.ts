import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ByteCursor, type FailAt } from './varint.js';

/**
 * The two messages of a TensorBundle index (tensorflow/core/protobuf/tensor_bundle.proto), encoded
 * by hand: proto3, so fields holding their default are left out — except `shape`, a message that
 * TensorFlow always sets, which is written even when empty (a scalar).
 */

export interface BundleHeader {
  readonly numShards: number;
  /** 0 = little-endian (the only layout kbb reads or writes). */
  readonly endianness: number;
  readonly version: { readonly producer: number; readonly minConsumer: number; readonly badConsumers: readonly number[] };
}

export interface BundleEntry {
  /** TensorFlow DataType enum value. */
  readonly dtype: number;
  readonly shape: readonly number[];
  readonly shardId: number;
  readonly offset: number;
  readonly size: number;
  /** Masked CRC-32C of the stored bytes. */
  readonly crc32c: number;
  /** Partitioned variables (`slices`): present in the proto, never written by KoBigBird. */
  readonly hasSlices: boolean;
}

/**
 * Decodes a BundleHeaderProto. `fail` makes the error for a problem at a byte of `bytes` (the reader
 * names the index file, the entry and where its value lies): every malformed input ends there, never
 * in a protobuf library's unlocated message.
 */
export function decodeHeader(bytes: Uint8Array, fail: FailAt): BundleHeader {
  const message = new ByteCursor(bytes, 0, bytes.length, fail);
  let numShards = 0;
  let endianness = 0;
  let version: BundleHeader['version'] = { producer: 0, minConsumer: 0, badConsumers: [] };
  for (const { field, wire, at } of fields(message, 'BundleHeaderProto')) {
    if (field === 1 && wire === VARINT) numShards = int32(message, at, 'BundleHeaderProto.num_shards');
    else if (field === 2 && wire === VARINT) endianness = int32(message, at, 'BundleHeaderProto.endianness');
    else if (field === 3 && wire === LENGTH_DELIMITED) version = decodeVersion(lengthDelimited(message, 'BundleHeaderProto.version'));
    else skipField(message, 'BundleHeaderProto', field, wire);
  }
  return { numShards, endianness, version };
}

function decodeVersion(message: ByteCursor): BundleHeader['version'] {
  let producer = 0;
  let minConsumer = 0;
  const badConsumers: number[] = [];
  for (const { field, wire, at } of fields(message, 'VersionDef')) {
    if (field === 1 && wire === VARINT) producer = int32(message, at, 'VersionDef.producer');
    else if (field === 2 && wire === VARINT) minConsumer = int32(message, at, 'VersionDef.min_consumer');
    else if (field === 3 && wire === VARINT) badConsumers.push(int32(message, at, 'VersionDef.bad_consumers'));
    else if (field === 3 && wire === LENGTH_DELIMITED) {
      const packed = lengthDelimited(message, 'VersionDef.bad_consumers');
      while (packed.remaining > 0) badConsumers.push(int32(packed, packed.at, 'VersionDef.bad_consumers'));
    } else skipField(message, 'VersionDef', field, wire);
  }
  return { producer, minConsumer, badConsumers };
}

export function encodeHeader(header: BundleHeader): Uint8Array {
  const writer = new BinaryWriter();
  if (header.numShards !== 0) writer.tag(1, WireType.Varint).int32(header.numShards);
  if (header.endianness !== 0) writer.tag(2, WireType.Varint).int32(header.endianness);
  writer.tag(3, WireType.LengthDelimited).fork();
  if (header.version.producer !== 0) writer.tag(1, WireType.Varint).int32(header.version.producer);
  if (header.version.minConsumer !== 0) writer.tag(2, WireType.Varint).int32(header.version.minConsumer);
  if (header.version.badConsumers.length > 0) {
    writer.tag(3, WireType.LengthDelimited).fork();
    for (const v of header.version.badConsumers) writer.int32(v);
    writer.join();
  }
  writer.join();
  return writer.finish();
}

/** Decodes a BundleEntryProto; `fail` as for `decodeHeader`. */
export function decodeEntry(bytes: Uint8Array, fail: FailAt): BundleEntry {
  const message = new ByteCursor(bytes, 0, bytes.length, fail);
  let dtype = 0;
  const shape: number[] = [];
  let shardId = 0;
  let offset = 0;
  let size = 0;
  let crc32c = 0;
  let hasSlices = false;
  for (const { field, wire, at } of fields(message, 'BundleEntryProto')) {
    if (field === 1 && wire === VARINT) dtype = int32(message, at, 'BundleEntryProto.dtype');
    // A message field given twice merges, and a shape's dims are a repeated field: they add up.
    else if (field === 2 && wire === LENGTH_DELIMITED) decodeShape(lengthDelimited(message, 'BundleEntryProto.shape'), shape);
    else if (field === 3 && wire === VARINT) shardId = int32(message, at, 'BundleEntryProto.shard_id');
    else if (field === 4 && wire === VARINT) offset = message.varint('BundleEntryProto.offset');
    else if (field === 5 && wire === VARINT) size = message.varint('BundleEntryProto.size');
    else if (field === 6 && wire === FIXED32) crc32c = message.fixed32('BundleEntryProto.crc32c');
    else if (field === 7 && wire === LENGTH_DELIMITED) {
      lengthDelimited(message, 'BundleEntryProto.slices');
      hasSlices = true;
    } else skipField(message, 'BundleEntryProto', field, wire);
  }
  return { dtype, shape, shardId, offset, size, crc32c, hasSlices };
}

/** TensorShapeProto: repeated `dim { size }`, appended to `dims` (a dim's `name` is ignored; `unknown_rank` never occurs in checkpoints). */
function decodeShape(message: ByteCursor, dims: number[]): void {
  for (const { field, wire } of fields(message, 'TensorShapeProto')) {
    if (field === 2 && wire === LENGTH_DELIMITED) {
      if (dims.length >= MAX_RANK) throw message.fail(message.at, `TensorShapeProto: more than ${MAX_RANK} dimensions (TensorFlow's limit)`);
      const dim = lengthDelimited(message, 'TensorShapeProto.dim');
      let size = 0;
      for (const { field: f, wire: w } of fields(dim, 'TensorShapeProto.Dim')) {
        // A negative size (unknown, -1) is a 10-byte varint past 2^53, refused by `varint`.
        if (f === 1 && w === VARINT) size = dim.varint('TensorShapeProto.Dim.size');
        else skipField(dim, 'TensorShapeProto.Dim', f, w);
      }
      dims.push(size);
    } else skipField(message, 'TensorShapeProto', field, wire);
  }
}

/** TensorShape::MaxDimensions(). */
export const MAX_RANK = 254;

// Protobuf wire types.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/** The fields of a message, in order; each field's value is read (or skipped) by the loop body before the next tag. */
function* fields(message: ByteCursor, what: string): Generator<{ readonly field: number; readonly wire: number; readonly at: number }> {
  while (message.remaining > 0) {
    const at = message.at;
    const tag = message.varint(`${what}: field tag`);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0 || field > MAX_FIELD_NUMBER) throw message.fail(at, `${what}: field number ${field} is not a valid protobuf field number`);
    if (wire === START_GROUP || wire === END_GROUP)
      throw message.fail(at, `${what}: field ${field} has wire type ${wire} (a group), which TensorBundle messages never use`);
    if (wire > FIXED32) throw message.fail(at, `${what}: field ${field} has wire type ${wire}, which protobuf does not have`);
    yield { field, wire, at: message.at };
  }
}

const MAX_FIELD_NUMBER = 2 ** 29 - 1;

/** A field kbb does not read: its value is passed over (a varint of any size, fixed bytes, or a length-delimited run). */
function skipField(message: ByteCursor, name: string, field: number, wire: number): void {
  const what = `${name}: unknown field ${field} (wire type ${wire})`;
  if (wire === VARINT) {
    for (let i = 0; ; i++) {
      if (i === 10) throw message.fail(message.at - i, `${what}: a varint is longer than 10 bytes`);
      if (message.take(1, what)[0] < 0x80) return;
    }
  } else if (wire === FIXED64) message.skip(8, what);
  else if (wire === FIXED32) message.skip(4, what);
  else message.skip(message.varint(`${what}: length`), what);
}

/** A length-delimited field's contents, as a cursor over them. */
function lengthDelimited(message: ByteCursor, what: string): ByteCursor {
  return message.slice(message.varint(`${what}: length`), what);
}

/** An int32 (or enum) field: a varint up to 2^31 − 1 (negative ones are refused by `varint`). */
function int32(message: ByteCursor, at: number, what: string): number {
  const value = message.varint(what);
  if (value > 0x7fffffff) throw message.fail(at, `${what}: ${value} does not fit an int32`);
  return value;
}

export function encodeEntry(entry: Omit<BundleEntry, 'hasSlices'>): Uint8Array {
  const writer = new BinaryWriter();
  if (entry.dtype !== 0) writer.tag(1, WireType.Varint).int32(entry.dtype);
  writer.tag(2, WireType.LengthDelimited).fork();
  for (const size of entry.shape) {
    writer.tag(2, WireType.LengthDelimited).fork();
    if (size !== 0) writer.tag(1, WireType.Varint).int64(size);
    writer.join();
  }
  writer.join();
  if (entry.shardId !== 0) writer.tag(3, WireType.Varint).int32(entry.shardId);
  if (entry.offset !== 0) writer.tag(4, WireType.Varint).int64(entry.offset);
  if (entry.size !== 0) writer.tag(5, WireType.Varint).int64(entry.size);
  if (entry.crc32c !== 0) writer.tag(6, WireType.Bit32).fixed32(entry.crc32c);
  return writer.finish();
}
