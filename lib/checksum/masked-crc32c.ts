import { crc32c } from './crc32.js';

/** The constant TensorFlow adds after rotating (tensorflow/core/lib/hash/crc32c.h, `kMaskDelta`). */
const MASK_DELTA = 0xa282ead8;

/**
 * TensorFlow's `crc32c::Mask`: rotate right 15 bits and add a constant, because a plain CRC of data
 * that itself holds CRCs is weak. TFRecord framing, checkpoint index blocks and tensor entries store
 * CRCs this way.
 */
export const maskCrc = (crc: number): number => (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;

/** The masked CRC-32C (Castagnoli) of `bytes`, as TFRecord stores it. */
export function maskedCrc32c(bytes: Uint8Array): number {
  return maskCrc(crc32c(bytes));
}
