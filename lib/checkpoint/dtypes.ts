/** TensorFlow `DataType` enum values (tensorflow/core/framework/types.proto) that checkpoints hold. */
export const TF_DTYPES = {
  float32: 1,
  float64: 2,
  int32: 3,
  uint8: 4,
  int16: 5,
  int8: 6,
  string: 7,
  int64: 9,
  bool: 10,
  bfloat16: 14,
  uint16: 17,
  float16: 19,
  uint32: 22,
  uint64: 23,
} as const;

export type DType = keyof typeof TF_DTYPES;

const BY_CODE = new Map<number, DType>(Object.entries(TF_DTYPES).map(([name, code]) => [code, name as DType]));

/** Bytes per element; strings have no fixed size. */
export const DTYPE_BYTES: Readonly<Record<Exclude<DType, 'string'>, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  uint8: 1,
  int16: 2,
  int8: 1,
  int64: 8,
  bool: 1,
  bfloat16: 2,
  uint16: 2,
  float16: 2,
  uint32: 4,
  uint64: 8,
};

export function dtypeFromCode(code: number): DType | undefined {
  return BY_CODE.get(code);
}

/** Values of a tensor in the natural JavaScript array for its dtype. */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint8Array
  | Int16Array
  | Int8Array
  | BigInt64Array
  | BigUint64Array
  | Uint16Array
  | Uint32Array
  | boolean[]
  | Uint8Array[];

/**
 * Decodes little-endian tensor bytes. float16 and bfloat16 widen to Float32Array (JavaScript has no
 * narrower float array in Node 20); int64/uint64 come as bigint arrays.
 */
export function decodeValues(dtype: Exclude<DType, 'string'>, bytes: Uint8Array): TensorValues {
  // Copy first: the source may be unaligned for the element size.
  const buffer = new Uint8Array(bytes).buffer; // a copy (a Buffer's slice() would share the pool)
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'uint8':
      return new Uint8Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'uint64':
      return new BigUint64Array(buffer);
    case 'uint16':
      return new Uint16Array(buffer);
    case 'uint32':
      return new Uint32Array(buffer);
    case 'bool':
      return Array.from(new Uint8Array(buffer), (b) => b !== 0);
    case 'bfloat16': {
      const halves = new Uint16Array(buffer);
      const out = new Uint32Array(halves.length);
      for (let i = 0; i < halves.length; i++) out[i] = halves[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'float16': {
      const halves = new Uint16Array(buffer);
      const out = new Float32Array(halves.length);
      for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i]);
      return out;
    }
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
