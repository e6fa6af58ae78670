import { readFileSync } from 'node:fs';

export interface NpyArray {
  readonly dtype: '<i4' | '<f4';
  readonly shape: readonly number[];
  readonly data: Int32Array | Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Reads a NumPy `.npy` file (format 1.0/2.0/3.0) holding little-endian int32 or float32 in C order: the fixtures
 * only use those. Anything else throws, so a fixture in a new layout is noticed rather than misread.
 */
export function readNpy(path: string): NpyArray {
  const bytes = readFileSync(path);
  if (!MAGIC.every((b, i) => bytes[i] === b)) throw new Error(`${path}: not a .npy file (bad magic)`);
  const major = bytes[6];
  const headerLengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataOffset = 8 + headerLengthBytes + headerLength;
  const header = bytes.subarray(8 + headerLengthBytes, dataOffset).toString(major >= 3 ? 'utf8' : 'latin1');

  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${path}: unreadable header ${header}`);
  if (fortran !== 'False') throw new Error(`${path}: Fortran-order arrays are not supported`);
  if (descr !== '<i4' && descr !== '<f4') throw new Error(`${path}: dtype ${descr} is not supported (only <i4 and <f4)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - dataOffset !== count * 4) throw new Error(`${path}: ${bytes.length - dataOffset} data bytes for shape (${shape.join(', ')})`);

  // Copy into a fresh, aligned buffer: the data offset need not be a multiple of 4 in the file's buffer.
  const raw = new Uint8Array(bytes.subarray(dataOffset)).buffer;
  const view = new DataView(raw);
  const data = descr === '<i4' ? new Int32Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = descr === '<i4' ? view.getInt32(i * 4, true) : view.getFloat32(i * 4, true);
  return { dtype: descr, shape, data };
}
