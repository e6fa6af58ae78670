/**
 * Varints as LevelDB tables, protobuf messages and TensorBundle string tensors store them, and the
 * one bounded cursor every checkpoint decoder reads bytes through: no read leaves its range, no
 * varint exceeds 2^53, and each failure is reported at its byte offset by the caller's `fail`.
 */

/** Appends `value` (up to 2^53) as a little-endian base-128 varint, as LevelDB tables and TensorBundle string tensors store lengths. */
export function pushVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

/** Makes the located error for a problem at byte `at` (the caller knows the file, the entry, what the bytes are). */
export type FailAt = (at: number, problem: string) => Error;

/** The longest varint: a 64-bit value takes 10 bytes. */
const MAX_VARINT_BYTES = 10;

/**
 * A position in `bytes` that cannot move past `end`. Positions stay those of `bytes`, also in a
 * `slice`, so an error deep in a nested message names the byte of the whole value.
 */
export class ByteCursor {
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
    readonly end: number,
    readonly fail: FailAt,
  ) {}

  get remaining(): number {
    return this.end - this.at;
  }

  /**
   * An unsigned varint of at most 10 bytes, up to 2^53. Larger values (and negative protobuf int32
   * or int64 values, which are 10-byte varints near 2^64) are refused: no size, count, offset or enum
   * in a checkpoint comes near them.
   */
  varint(what: string): number {
    const start = this.at;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.at >= this.end) throw this.fail(start, `${what}: a varint runs past the end (${this.end - start} bytes left)`);
      const b = this.bytes[this.at++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw this.fail(start, `${what}: varint ${result} is over 2^53 (or a negative number)`);
        return result;
      }
      scale *= 128;
    }
    throw this.fail(start, `${what}: a varint is longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** A little-endian uint32. */
  fixed32(what: string): number {
    const start = this.need(4, what);
    this.at += 4;
    return (this.bytes[start] | (this.bytes[start + 1] << 8) | (this.bytes[start + 2] << 16)) + this.bytes[start + 3] * 0x1000000;
  }

  /** The next `length` bytes (a view, not a copy). */
  take(length: number, what: string): Uint8Array {
    const start = this.need(length, what);
    this.at += length;
    return this.bytes.subarray(start, start + length);
  }

  /** Moves past `length` bytes. */
  skip(length: number, what: string): void {
    this.need(length, what);
    this.at += length;
  }

  /** A cursor over the next `length` bytes (same positions, same `fail`); this one moves past them. */
  slice(length: number, what: string): ByteCursor {
    const start = this.need(length, what);
    this.at += length;
    return new ByteCursor(this.bytes, start, start + length, this.fail);
  }

  private need(length: number, what: string): number {
    if (length > this.end - this.at) throw this.fail(this.at, `${what}: ${length} bytes needed, ${this.end - this.at} left`);
    return this.at;
  }
}
