import { crc32c } from '../checksum/crc32.js';
import { maskCrc } from '../checksum/masked-crc32c.js';
import { CheckpointError } from './checkpoint-error.js';
import { ByteCursor, pushVarint } from './varint.js';

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

/**
 * Splits stored string-tensor bytes into `count` elements; `crc` is the entry checksum they give.
 * Every length is read through a bounded cursor and checked against the bytes there are, so corrupt
 * lengths end in a `CheckpointError` naming `file`, `what` (the variable) and the byte.
 */
export function readStringTensor(bytes: Uint8Array, count: number, file: string, what: string): { readonly strings: Uint8Array[]; readonly crc: number } {
  const cursor = new ByteCursor(bytes, 0, bytes.length, (at, problem) => new CheckpointError(`${file}: ${what}: byte ${at} of its data: ${problem}`, file));
  const lengths: number[] = [];
  let crc = 0;
  let total = 0;
  for (let k = 0; k < count; k++) {
    const at = cursor.at;
    const length = cursor.varint(`string ${k} of ${count}: length`);
    total += length;
    if (total > bytes.length) throw cursor.fail(at, `string lengths add up to more than the tensor's ${bytes.length} bytes (at string ${k} of ${count})`);
    lengths.push(length);
    crc = crc32c(fixedLength(length), crc);
  }
  const lengthCrcAt = cursor.at;
  const lengthCrc = cursor.take(4, 'the lengths checksum');
  const storedLengthCrc = new DataView(lengthCrc.buffer, lengthCrc.byteOffset, 4).getUint32(0, true);
  if (storedLengthCrc !== maskCrc(crc))
    throw cursor.fail(lengthCrcAt, `string lengths checksum mismatch (stored 0x${storedLengthCrc.toString(16)}, computed 0x${maskCrc(crc).toString(16)})`);
  crc = crc32c(lengthCrc, crc);
  const strings: Uint8Array[] = [];
  for (const [k, length] of lengths.entries()) {
    const s = cursor.take(length, `string ${k} of ${count}`);
    strings.push(s);
    crc = crc32c(s, crc);
  }
  if (cursor.remaining > 0) throw cursor.fail(cursor.at, `${cursor.remaining} bytes follow the last string (expected none)`);
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
