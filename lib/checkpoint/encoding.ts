/** The two small encodings a TensorBundle uses everywhere: LevelDB varints and TensorFlow's masked CRC. */

const MASK_DELTA = 0xa282ead8;

/** crc32c::Mask: rotate right 15 bits and add a constant, so CRCs of data holding CRCs stay strong. */
export const maskCrc = (crc: number): number => (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;

/** Appends `value` (up to 2^53) as a little-endian base-128 varint. */
export function pushVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}
