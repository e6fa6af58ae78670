import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

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

export function decodeHeader(bytes: Uint8Array): BundleHeader {
  const reader = new BinaryReader(bytes);
  let numShards = 0;
  let endianness = 0;
  let version: BundleHeader['version'] = { producer: 0, minConsumer: 0, badConsumers: [] };
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === WireType.Varint) numShards = reader.int32();
    else if (field === 2 && wire === WireType.Varint) endianness = reader.int32();
    else if (field === 3 && wire === WireType.LengthDelimited) version = decodeVersion(reader.bytes());
    else reader.skip(wire);
  }
  return { numShards, endianness, version };
}

function decodeVersion(bytes: Uint8Array): BundleHeader['version'] {
  const reader = new BinaryReader(bytes);
  let producer = 0;
  let minConsumer = 0;
  const badConsumers: number[] = [];
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === WireType.Varint) producer = reader.int32();
    else if (field === 2 && wire === WireType.Varint) minConsumer = reader.int32();
    else if (field === 3 && wire === WireType.Varint) badConsumers.push(reader.int32());
    else if (field === 3 && wire === WireType.LengthDelimited) {
      const packed = new BinaryReader(reader.bytes());
      while (packed.pos < packed.len) badConsumers.push(packed.int32());
    } else reader.skip(wire);
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

export function decodeEntry(bytes: Uint8Array): BundleEntry {
  const reader = new BinaryReader(bytes);
  let dtype = 0;
  let shape: number[] = [];
  let shardId = 0;
  let offset = 0;
  let size = 0;
  let crc32c = 0;
  let hasSlices = false;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === WireType.Varint) dtype = reader.int32();
    else if (field === 2 && wire === WireType.LengthDelimited) shape = decodeShape(reader.bytes());
    else if (field === 3 && wire === WireType.Varint) shardId = reader.int32();
    else if (field === 4 && wire === WireType.Varint) offset = Number(reader.int64());
    else if (field === 5 && wire === WireType.Varint) size = Number(reader.int64());
    else if (field === 6 && wire === WireType.Bit32) crc32c = reader.fixed32();
    else if (field === 7 && wire === WireType.LengthDelimited) {
      reader.bytes();
      hasSlices = true;
    } else reader.skip(wire);
  }
  return { dtype, shape, shardId, offset, size, crc32c, hasSlices };
}

/** TensorShapeProto: repeated `dim { size }` (a dim's `name` is ignored; `unknown_rank` never occurs in checkpoints). */
function decodeShape(bytes: Uint8Array): number[] {
  const reader = new BinaryReader(bytes);
  const dims: number[] = [];
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 2 && wire === WireType.LengthDelimited) {
      const dim = new BinaryReader(reader.bytes());
      let size = 0;
      while (dim.pos < dim.len) {
        const [f, w] = dim.tag();
        if (f === 1 && w === WireType.Varint) size = Number(dim.int64());
        else dim.skip(w);
      }
      dims.push(size);
    } else reader.skip(wire);
  }
  return dims;
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
