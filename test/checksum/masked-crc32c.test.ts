import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { maskedCrc32c } from '../../lib/checksum/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

/** TensorFlow's mask, spelled out independently of the library: rotate right 15, add 0xa282ead8, mod 2^32. */
function maskByHand(crc: number): number {
  const rotated = Number((BigInt(crc) >> 15n) | ((BigInt(crc) << 17n) & 0xffffffffn));
  return (rotated + 0xa282ead8) % 2 ** 32;
}

describe('masked CRC-32C', () => {
  it('mask arithmetic: 0xE3069283 (CRC-32C of "123456789") masks to 0xC78AB0E5', () => {
    // 0xE3069283 >>> 15 = 0x0001C60D; low 15 bits 0x1283 << 17 = 0x25060000; OR = 0x2507C60D;
    // + 0xA282EAD8 = 0xC78AB0E5 (no carry out of 32 bits).
    expect(maskByHand(0xe3069283)).toBe(0xc78ab0e5);
  });

  it.each([
    // The standard CRC-32C check value, and the RFC 3720 (iSCSI) appendix B.4 vectors.
    ['"123456789"', Buffer.from('123456789', 'ascii'), 0xe3069283],
    ['32 zero bytes', Buffer.alloc(32, 0), 0x8a9136aa],
    ['32 bytes of 0xff', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['bytes 0..31', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ['no bytes', new Uint8Array(0), 0],
  ])('known answer: %s', (_, bytes, crc) => {
    expect(maskedCrc32c(bytes)).toBe(maskByHand(crc));
  });

  it('takes a Uint8Array view with an offset, not just a Buffer', () => {
    const backing = Buffer.from('xx123456789yy', 'ascii');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, 9);
    expect(maskedCrc32c(view)).toBe(0xc78ab0e5);
  });

  it.skipIf(!hasFixtures)('equals the length checksum TensorFlow stored in a real file', () => {
    const head = readFileSync(fixture('tfrecords', 'bert-pretraining-uncompressed', 'tf_examples.tfrecord')).subarray(0, 12);
    expect(maskedCrc32c(head.subarray(0, 8))).toBe(head.readUInt32LE(8));
  });
});
