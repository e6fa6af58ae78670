import { crc32c } from '../checksum/crc32.js';

/** The constant TensorFlow adds after rotating (tensorflow/core/lib/hash/crc32c.h, `kMaskDelta`). */
const MASK_DELTA = 0xa282ead8;

/**
 * The checksum TFRecord stores: CRC-32C (Castagnoli), rotated right by 15 bits plus a constant,
 * because a plain CRC of data that itself holds CRCs is weak.
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}
