import { crc32c } from '../checksum/crc32.js';
import { maskCrc } from '../checksum/masked-crc32c.js';
import { CheckpointError } from './checkpoint-error.js';
import { pushVarint } from './varint.js';

/**
 * TensorFlow's string tensor layout in a bundle (tensor_bundle.cc `WriteStringTensor`): a varint64
 * length per element, a uint32 masked CRC of the lengths, then the elements back to back. The entry's
 * checksum covers the lengths as fixed-width integers (uint32, or uint64 for an element over 4 GiB),
 * the four length-checksum bytes, then the element bytes.
 */
export function writeStringTensor(strings: readonly Uint8Array[]): { readonly bytes: Uint8Array; readonly crc: number } {
  const lengths: number[] = [];
  let crc = 0;
  for (const s of strings) {
    pushVarint(lengths, s.length);
    crc = crc32c(fixedLength(s.length), crc);
  }
  const lengthCrc = new Uint8Array(4);
  new DataView(lengthCrc.buffer).setUint32(0, maskCrc(crc), true);
  crc = crc32c(lengthCrc, crc);
  const out = new Uint8Array(lengths.length + 4 + strings.reduce((n, s) => n + s.length, 0));
  out.set(lengths);
  out.set(lengthCrc, lengths.length);
  let at = lengths.length + 4;
  for (const s of strings) {
    out.set(s, at);
    at += s.length;
    crc = crc32c(s, crc);
  }
  return { bytes: out, crc: maskCrc(crc) };
}

/** Splits stored string-tensor bytes into `count` elements; `crc` is the entry checksum they give. */
export function readStringTensor(bytes: Uint8Array, count: number, what: string): { readonly strings: Uint8Array[]; readonly crc: number } {
  const lengths: number[] = [];
  let at = 0;
  let crc = 0;
  for (let k = 0; k < count; k++) {
    let length = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new CheckpointError(`${what}: string lengths run past the tensor's bytes`);
      const b = bytes[at++];
      length += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    lengths.push(length);
    crc = crc32c(fixedLength(length), crc);
  }
  if (at + 4 > bytes.length) throw new CheckpointError(`${what}: no room for the lengths checksum`);
  const storedLengthCrc = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
  if (storedLengthCrc !== maskCrc(crc)) throw new CheckpointError(`${what}: string lengths checksum mismatch`);
  crc = crc32c(bytes.subarray(at, at + 4), crc);
  at += 4;
  const strings: Uint8Array[] = [];
  for (const length of lengths) {
    if (at + length > bytes.length) throw new CheckpointError(`${what}: string element runs past the tensor's bytes`);
    const s = bytes.subarray(at, at + length);
    strings.push(s);
    crc = crc32c(s, crc);
    at += length;
  }
  return { strings, crc: maskCrc(crc) };
}

function fixedLength(length: number): Uint8Array {
  const wide = length > 0xffffffff;
  const out = new Uint8Array(wide ? 8 : 4);
  const view = new DataView(out.buffer);
  if (wide) view.setBigUint64(0, BigInt(length), true);
  else view.setUint32(0, length, true);
  return out;
}
