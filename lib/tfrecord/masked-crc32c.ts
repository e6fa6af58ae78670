import { crc32c } from '@node-rs/crc32';

/**
 * The checksum TFRecord stores: CRC-32C (Castagnoli), rotated right by 15 bits plus a constant,
 * because a CRC of data that itself contains CRCs is weak.
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}
