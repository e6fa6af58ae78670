import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { compareCodePoints } from '../text/compare-code-points.js';

/**
 * An int64 value: a `number` when it is a safe integer (every value the pretraining data holds),
 * a `bigint` beyond ±2^53 so nothing is rounded silently.
 */
export type Int64 = number | bigint;

/** One `tf.train.Feature`. `none` is a Feature with no list set (`feature { key: "x" value {} }`). */
export type Feature =
  | { readonly kind: 'int64List'; readonly value: readonly Int64[] | Int32Array }
  | { readonly kind: 'floatList'; readonly value: Float32Array }
  | { readonly kind: 'bytesList'; readonly value: readonly Uint8Array[] }
  | { readonly kind: 'none' };

/** A `tf.train.Example`: feature name → feature. Map order is decode order; encoding sorts keys. */
export type Example = ReadonlyMap<string, Feature>;

/** An int64 feature; an Int32Array is kept as it is (no copy), which the pretraining builder relies on for speed. */
export const int64Feature = (value: Int32Array | ArrayLike<number> | readonly Int64[]): Feature => ({
  kind: 'int64List',
  value: value instanceof Int32Array ? value : Array.from(value as ArrayLike<Int64>),
});
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
 *
 * Hand-written rather than built on @bufbuild/protobuf's BinaryWriter: on the pretraining builder's
 * hot path (4,096 + 640 int64 values per example) the library's per-value int64 conversion took a
 * quarter of the build time (bench/build.ts). Sizes are computed first and everything is written
 * into one buffer. Decoding stays on the library; a test checks the bytes against BinaryWriter's.
 */
export function encodeExample(example: Example): Uint8Array {
  const keys = [...example.keys()].sort(compareCodePoints);
  const entries = keys.map((key) => {
    const keyBytes = Buffer.from(key, 'utf8');
    const feature = example.get(key)!;
    const featureBody = featureBodySize(feature);
    const featureSize = feature.kind === 'none' ? 0 : 1 + varintSize(featureBody) + featureBody;
    const entrySize = 1 + varintSize(keyBytes.length) + keyBytes.length + 1 + varintSize(featureSize) + featureSize;
    return { keyBytes, feature, featureBody, featureSize, entrySize };
  });
  const featuresSize = entries.reduce((n, e) => n + 1 + varintSize(e.entrySize) + e.entrySize, 0);
  const out = Buffer.allocUnsafe(1 + varintSize(featuresSize) + featuresSize);
  let at = 0;
  const tag = (field: number, wireType: number): void => {
    out[at++] = (field << 3) | wireType;
  };
  const length = (n: number): void => {
    at = writeVarint(out, at, n);
  };
  tag(EXAMPLE_FEATURES, WireType.LengthDelimited);
  length(featuresSize);
  for (const { keyBytes, feature, featureBody, featureSize, entrySize } of entries) {
    tag(FEATURES_FEATURE, WireType.LengthDelimited);
    length(entrySize);
    tag(MAP_KEY, WireType.LengthDelimited);
    length(keyBytes.length);
    out.set(keyBytes, at);
    at += keyBytes.length;
    tag(MAP_VALUE, WireType.LengthDelimited);
    length(featureSize);
    if (feature.kind === 'none') continue;
    tag(feature.kind === 'int64List' ? FEATURE_INT64_LIST : feature.kind === 'floatList' ? FEATURE_FLOAT_LIST : FEATURE_BYTES_LIST, WireType.LengthDelimited);
    length(featureBody);
    if (feature.kind === 'bytesList') {
      for (const v of feature.value) {
        tag(LIST_VALUE, WireType.LengthDelimited);
        length(v.length);
        out.set(v, at);
        at += v.length;
      }
    } else if (feature.value.length > 0) {
      tag(LIST_VALUE, WireType.LengthDelimited);
      if (feature.kind === 'floatList') {
        length(feature.value.length * 4);
        for (const v of feature.value) at = out.writeFloatLE(v, at);
      } else {
        length(packedInt64Size(feature.value));
        for (const v of feature.value) at = writeInt64(out, at, v);
      }
    }
  }
  if (at !== out.length) throw new Error(`encodeExample: wrote ${at} bytes, sized ${out.length}`);
  return out;
}

function featureBodySize(feature: Feature): number {
  switch (feature.kind) {
    case 'none':
      return 0;
    case 'bytesList':
      return feature.value.reduce((n, v) => n + 1 + varintSize(v.length) + v.length, 0);
    case 'floatList':
      return feature.value.length === 0 ? 0 : 1 + varintSize(feature.value.length * 4) + feature.value.length * 4;
    case 'int64List': {
      if (feature.value.length === 0) return 0;
      const packed = packedInt64Size(feature.value);
      return 1 + varintSize(packed) + packed;
    }
  }
}

function packedInt64Size(values: readonly Int64[] | Int32Array): number {
  let size = 0;
  for (const v of values) size += typeof v === 'number' && v >= 0 && v < 2 ** 31 ? varintSize(v) : int64Bytes(v).length;
  return size;
}

/** Bytes of a non-negative varint below 2^53. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 128) {
    out[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/** An int64 as protobuf writes it: negative values as their 64-bit two's complement (10 bytes). */
function int64Bytes(value: Int64): number[] {
  let n = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (n >= 128n) {
    bytes.push(Number(n & 127n) | 0x80);
    n >>= 7n;
  }
  bytes.push(Number(n));
  return bytes;
}

function writeInt64(out: Uint8Array, at: number, value: Int64): number {
  if (typeof value === 'number' && value >= 0 && value < 2 ** 31) return writeVarint(out, at, value);
  for (const b of int64Bytes(value)) out[at++] = b;
  return at;
}

/** The values of an int64 feature as numbers; an error if it is missing, of another kind, or beyond 2^53. */
export function int64Values(example: Example, key: string): number[] {
  const feature = example.get(key);
  if (feature?.kind !== 'int64List') throw new Error(`feature ${JSON.stringify(key)}: expected an int64 list, found ${feature ? feature.kind : 'nothing'}`);
  return Array.from(feature.value, (v) => {
    if (typeof v === 'bigint') throw new Error(`feature ${JSON.stringify(key)}: ${v} does not fit a JavaScript number`);
    return v;
  });
}

/** The values of a float feature; an error if it is missing or of another kind. */
export function floatValues(example: Example, key: string): Float32Array {
  const feature = example.get(key);
  if (feature?.kind !== 'floatList') throw new Error(`feature ${JSON.stringify(key)}: expected a float list, found ${feature ? feature.kind : 'nothing'}`);
  return feature.value;
}
