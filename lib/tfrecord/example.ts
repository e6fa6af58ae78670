import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { compareCodePoints } from '../text/compare-code-points.js';

/**
 * An int64 value: a `number` when it is a safe integer (every value the pretraining data holds),
 * a `bigint` beyond ±2^53 so nothing is rounded silently.
 */
export type Int64 = number | bigint;

/** One `tf.train.Feature`. `none` is a Feature with no list set (`feature { key: "x" value {} }`). */
export type Feature =
  | { readonly kind: 'int64List'; readonly value: readonly Int64[] }
  | { readonly kind: 'floatList'; readonly value: Float32Array }
  | { readonly kind: 'bytesList'; readonly value: readonly Uint8Array[] }
  | { readonly kind: 'none' };

/** A `tf.train.Example`: feature name → feature. Map order is decode order; encoding sorts keys. */
export type Example = ReadonlyMap<string, Feature>;

export const int64Feature = (value: ArrayLike<number> | readonly Int64[]): Feature => ({ kind: 'int64List', value: Array.from(value as ArrayLike<Int64>) });
export const floatFeature = (value: ArrayLike<number>): Feature => ({ kind: 'floatList', value: Float32Array.from(value) });
export const bytesFeature = (value: readonly (Uint8Array | string)[]): Feature => ({
  kind: 'bytesList',
  value: value.map((v) => (typeof v === 'string' ? new TextEncoder().encode(v) : v)),
});

// Field numbers from tensorflow/core/example/{example,feature}.proto.
const EXAMPLE_FEATURES = 1;
const FEATURES_FEATURE = 1;
const MAP_KEY = 1;
const MAP_VALUE = 2;
const FEATURE_BYTES_LIST = 1;
const FEATURE_FLOAT_LIST = 2;
const FEATURE_INT64_LIST = 3;
const LIST_VALUE = 1;

const toInt64 = (value: bigint): Int64 => (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);

/** Decodes a serialized `tf.train.Example`. Accepts any key order, packed or unpacked lists, unknown fields. */
export function decodeExample(bytes: Uint8Array): Example {
  const example = new Map<string, Feature>();
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === EXAMPLE_FEATURES && wireType === WireType.LengthDelimited) decodeFeatures(reader.bytes(), example);
    else reader.skip(wireType);
  }
  return example;
}

function decodeFeatures(bytes: Uint8Array, into: Map<string, Feature>): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== FEATURES_FEATURE || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType);
      continue;
    }
    const entry = new BinaryReader(reader.bytes());
    let key = '';
    let feature: Feature = { kind: 'none' };
    while (entry.pos < entry.len) {
      const [entryField, entryWire] = entry.tag();
      if (entryField === MAP_KEY && entryWire === WireType.LengthDelimited) key = entry.string();
      else if (entryField === MAP_VALUE && entryWire === WireType.LengthDelimited) feature = decodeFeature(entry.bytes());
      else entry.skip(entryWire);
    }
    // Protobuf map semantics: the last entry for a key wins.
    into.set(key, feature);
  }
}

function decodeFeature(bytes: Uint8Array): Feature {
  const reader = new BinaryReader(bytes);
  let feature: Feature = { kind: 'none' };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited || field < FEATURE_BYTES_LIST || field > FEATURE_INT64_LIST) {
      reader.skip(wireType);
      continue;
    }
    const list = reader.bytes();
    if (field === FEATURE_BYTES_LIST) feature = { kind: 'bytesList', value: decodeBytesList(list) };
    else if (field === FEATURE_FLOAT_LIST) feature = { kind: 'floatList', value: decodeFloatList(list) };
    else feature = { kind: 'int64List', value: decodeInt64List(list) };
  }
  return feature;
}

function decodeBytesList(bytes: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(bytes);
  const values: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === LIST_VALUE && wireType === WireType.LengthDelimited) values.push(reader.bytes().slice());
    else reader.skip(wireType);
  }
  return values;
}

function decodeFloatList(bytes: Uint8Array): Float32Array {
  const reader = new BinaryReader(bytes);
  const values: number[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === LIST_VALUE && wireType === WireType.LengthDelimited) {
      const packed = reader.bytes();
      if (packed.length % 4 !== 0) throw new Error(`FloatList: packed field of ${packed.length} bytes is not a multiple of 4`);
      const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
      for (let at = 0; at < packed.length; at += 4) values.push(view.getFloat32(at, true));
    } else if (field === LIST_VALUE && wireType === WireType.Bit32) {
      values.push(reader.float());
    } else {
      reader.skip(wireType);
    }
  }
  return Float32Array.from(values);
}

function decodeInt64List(bytes: Uint8Array): Int64[] {
  const reader = new BinaryReader(bytes);
  const values: Int64[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === LIST_VALUE && wireType === WireType.LengthDelimited) {
      const packed = new BinaryReader(reader.bytes());
      while (packed.pos < packed.len) values.push(toInt64(BigInt(packed.int64())));
    } else if (field === LIST_VALUE && wireType === WireType.Varint) {
      values.push(toInt64(BigInt(reader.int64())));
    } else {
      reader.skip(wireType);
    }
  }
  return values;
}

/**
 * Serializes a `tf.train.Example` deterministically: keys in code-point order (protobuf's
 * deterministic map order), numeric lists packed, bytes as repeated field 1.
 */
export function encodeExample(example: Example): Uint8Array {
  const keys = [...example.keys()].sort(compareCodePoints);
  const writer = new BinaryWriter();
  writer.tag(EXAMPLE_FEATURES, WireType.LengthDelimited).fork();
  for (const key of keys) {
    const feature = example.get(key)!;
    writer.tag(FEATURES_FEATURE, WireType.LengthDelimited).fork();
    writer.tag(MAP_KEY, WireType.LengthDelimited).string(key);
    writer.tag(MAP_VALUE, WireType.LengthDelimited).fork();
    switch (feature.kind) {
      case 'int64List':
        writePackedList(writer, FEATURE_INT64_LIST, feature.value, (v) => writer.int64(v));
        break;
      case 'floatList':
        writePackedList(writer, FEATURE_FLOAT_LIST, feature.value, (v) => writer.float(v));
        break;
      case 'bytesList':
        writer.tag(FEATURE_BYTES_LIST, WireType.LengthDelimited).fork();
        for (const v of feature.value) writer.tag(LIST_VALUE, WireType.LengthDelimited).bytes(v);
        writer.join();
        break;
      case 'none':
        break;
    }
    writer.join(); // Feature
    writer.join(); // map entry
  }
  writer.join(); // Features
  return writer.finish();
}

/** An Int64List or FloatList: one packed field 1, left out when empty (as TensorFlow writes it). */
function writePackedList<T>(writer: BinaryWriter, listField: number, values: Iterable<T> & { readonly length: number }, write: (value: T) => void): void {
  writer.tag(listField, WireType.LengthDelimited).fork();
  if (values.length > 0) {
    writer.tag(LIST_VALUE, WireType.LengthDelimited).fork();
    for (const v of values) write(v);
    writer.join();
  }
  writer.join();
}
