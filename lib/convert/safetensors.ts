import { fileSystemFor } from '../fs/file-system-for.js';
import { InputError } from '../fs/input-error.js';
import { openRangedFile, type RangedFile } from '../fs/ranged-file.js';
import { type ByteSink, writeFileStreamed } from '../fs/streamed-write.js';
import { byCodePoints } from '../text/compare-code-points.js';

/** The element types this reader and writer handle, with their sizes in bytes. */
export const SAFETENSORS_DTYPE_BYTES = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
} as const);

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;

/** Where one tensor lies in an open file. */
export interface SafetensorsTensorInfo {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute position of the first byte in the file. */
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** An open `.safetensors` file (local or `gs://`): the header is parsed and checked, the data stays where it is until `read`. */
export interface SafetensorsFile {
  readonly path: string;
  /** The `__metadata__` map (empty when the header has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors in header order. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** Bytes of JSON header (padding included), not counting the 8-byte length before it. */
  readonly headerLength: number;
  /** One tensor's raw little-endian bytes, in a fresh buffer of its own (so typed-array views are aligned). */
  read(name: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A tensor to write. `data` may be a function so that only one tensor need be in memory at a time. */
export interface SafetensorsTensorSource {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Raw little-endian C-order bytes; may be left out only for a tensor with no elements. */
  readonly data?: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

export interface SafetensorsWriteOptions {
  /**
   * The `__metadata__` map (default `{"format":"pt"}`, what HF's `save_pretrained` writes and
   * transformers checks for). An empty object leaves the key out of the header.
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /** fsync the data before the rename (default true), so after a power loss the final name never holds a hole. */
  readonly fsync?: boolean;
}

/** A malformed file or a bad tensor, naming the file and (where there is one) the tensor. */
export class SafetensorsError extends InputError {
  constructor(
    override readonly file: string,
    readonly tensor: string | undefined,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(file, `${file}: ${tensor === undefined ? '' : `tensor ${brief(tensor, 200)}: `}${problem}`, options);
    this.name = 'SafetensorsError';
  }
}

const LENGTH_BYTES = 8;
/** The limit the reference (Rust) implementation puts on the header, so a corrupt length cannot make us allocate gigabytes. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const DEFAULT_METADATA: Readonly<Record<string, string>> = Object.freeze({ format: 'pt' });

/** A value as JSON for a message, cut short: a hostile header can hold megabytes in one entry, and a message stays one readable line. */
function brief(value: unknown, max = 80): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

const isDtype = (value: unknown): value is SafetensorsDtype => typeof value === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, value);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Bytes a tensor of this shape and dtype takes, or a description of what is wrong with the shape. */
function expectedBytes(dtype: SafetensorsDtype, shape: unknown): number | string {
  if (!Array.isArray(shape)) return `shape ${brief(shape)} is not an array (expected a list of non-negative integers)`;
  let bytes = SAFETENSORS_DTYPE_BYTES[dtype];
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) return `shape ${brief(shape)} has a dimension that is not a non-negative integer`;
    bytes *= dim;
  }
  // Checked at the end: a zero dimension makes any product empty, and the product of safe
  // integers is a finite double (or Infinity), never NaN, until a zero turns up.
  return Number.isSafeInteger(bytes) ? bytes : `shape ${brief(shape)} is too large (${dtype} elements of more than ${Number.MAX_SAFE_INTEGER} bytes)`;
}

/**
 * Opens a `.safetensors` file and checks its header: the length is sane and inside the file, the
 * JSON parses, every tensor has a known dtype, its byte range lies inside the data and matches its
 * shape, and no two ranges overlap. Gaps between tensors are allowed (the Rust reader refuses them,
 * but nothing is ambiguous about them). Tensor data is read only on `read`, with ranged reads,
 * so a multi-gigabyte checkpoint costs only its header until then (from a `gs://` bucket too: one ranged read per tensor).
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const info = await fileSystemFor(path).stat(path);
  if (!info || info.isDirectory) throw new SafetensorsError(path, undefined, info ? 'is a folder, not a file' : 'no such file');
  const file = openRangedFile(path);
  try {
    const parsed = await readHeader(path, file, info.size);
    return {
      path,
      ...parsed,
      async read(name: string): Promise<Uint8Array> {
        const tensor = parsed.tensors.get(name);
        if (tensor === undefined) throw new SafetensorsError(path, name, 'no such tensor in the file');
        const bytes = await file.read(tensor.byteOffset, tensor.byteLength);
        if (bytes.length !== tensor.byteLength)
          throw new SafetensorsError(path, name, `file ended after ${bytes.length} of ${tensor.byteLength} bytes (was it truncated since it was opened?)`);
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
      close: () => file.close(),
    };
  } catch (error) {
    await file.close();
    throw error;
  }
}

async function readHeader(path: string, file: RangedFile, fileBytes: number): Promise<Omit<SafetensorsFile, 'path' | 'read' | 'close'>> {
  const fail = (problem: string, tensor?: string): never => {
    throw new SafetensorsError(path, tensor, problem);
  };
  if (fileBytes < LENGTH_BYTES) fail(`${fileBytes} bytes is too short for a safetensors file (expected at least the 8-byte header length)`);
  const lengthBytes = await file.read(0, LENGTH_BYTES);
  if (lengthBytes.length < LENGTH_BYTES) fail(`file ended after ${lengthBytes.length} bytes (was it truncated while being opened?)`);
  const headerLength64 = lengthBytes.readBigUInt64LE(0);
  if (headerLength64 > BigInt(fileBytes - LENGTH_BYTES)) {
    fail(`header length ${headerLength64} runs past the end of the file (expected at most ${fileBytes - LENGTH_BYTES}: the file is ${fileBytes} bytes)`);
  }
  if (headerLength64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength64} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(headerLength64);
  const headerBytes = await file.read(LENGTH_BYTES, headerLength);
  if (headerBytes.length < headerLength) fail(`file ended inside the ${headerLength}-byte header (was it truncated while being opened?)`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new SafetensorsError(path, undefined, `header is not valid UTF-8 JSON (${(error as Error).message})`, { cause: error });
  }
  if (!isRecord(header)) return fail('header is not a JSON object');

  let metadata: Record<string, string> = {};
  const rawMetadata = header[METADATA_KEY];
  if (rawMetadata !== undefined) {
    if (!isRecord(rawMetadata) || !Object.values(rawMetadata).every((v) => typeof v === 'string')) {
      fail(`${METADATA_KEY} is not a map of strings to strings: ${brief(rawMetadata)}`);
    }
    metadata = Object.assign(Object.create(null) as Record<string, string>, rawMetadata);
  }

  const dataStart = LENGTH_BYTES + headerLength;
  const dataBytes = fileBytes - dataStart;
  const tensors = new Map<string, SafetensorsTensorInfo>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    if (!isRecord(entry)) fail(`header entry is not an object: ${brief(entry)} (expected {"dtype", "shape", "data_offsets"})`, name);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDtype(dtype)) fail(`dtype ${brief(dtype)} is not one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`, name);
    const dtype_ = dtype as SafetensorsDtype;
    const size = expectedBytes(dtype_, shape);
    if (typeof size === 'string') fail(size, name);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`data_offsets ${brief(offsets)} is not a pair of non-negative integers`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`data_offsets [${begin}, ${end}] run backwards`, name);
    if (end > dataBytes)
      fail(`data_offsets [${begin}, ${end}] run past the end of the data (expected at most ${dataBytes}: the file is ${fileBytes} bytes)`, name);
    if (end - begin !== size) {
      fail(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype_} ${brief(shape)} needs ${size as number}`, name);
    }
    tensors.set(name, { dtype: dtype_, shape: Object.freeze([...(shape as number[])]), byteOffset: dataStart + begin, byteLength: end - begin });
  }

  // Empty tensors occupy no bytes, so they cannot overlap anything.
  const ranges = [...tensors].filter(([, t]) => t.byteLength > 0).sort(([, a], [, b]) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < ranges.length; i++) {
    const [previousName, previous] = ranges[i - 1];
    const [name, current] = ranges[i];
    if (current.byteOffset < previous.byteOffset + previous.byteLength) {
      fail(`data_offsets overlap those of ${brief(previousName, 200)} (expected each tensor's bytes to be its own)`, name);
    }
  }
  return { metadata, tensors, headerLength };
}

/**
 * The header a writer puts before the data: `__metadata__` first, then tensors sorted by name with
 * their data laid out in that order with no gaps, compact JSON padded with spaces to a multiple of 8
 * bytes (so the data starts 8-aligned). Names sort by code point, as Python's `sorted` and Rust's
 * byte order do, so for any name the layout is the one HF's tools produce for a same-dtype model.
 */
export function safetensorsHeader(
  tensors: readonly Pick<SafetensorsTensorSource, 'name' | 'dtype' | 'shape'>[],
  metadata: Readonly<Record<string, string>> = DEFAULT_METADATA,
  file = '(safetensors header)',
): { readonly header: Uint8Array; readonly order: readonly number[] } {
  const order = tensors.map((_, i) => i).sort(byCodePoints((i) => tensors[i].name));
  const json: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new SafetensorsError(file, undefined, `metadata ${JSON.stringify(key)} is not a string`);
    }
    json[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const i of order) {
    const { name, dtype, shape } = tensors[i];
    if (name === METADATA_KEY) throw new SafetensorsError(file, name, 'this name is reserved for the metadata');
    if (Object.hasOwn(json, name)) throw new SafetensorsError(file, name, 'the name is given twice');
    if (!isDtype(dtype))
      throw new SafetensorsError(file, name, `dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`);
    const size = expectedBytes(dtype, shape);
    if (typeof size === 'string') throw new SafetensorsError(file, name, size);
    // Key order dtype, shape, data_offsets is the one the reference implementation writes.
    json[name] = { dtype, shape: [...shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(text.length / 8) * 8;
  const header = new Uint8Array(LENGTH_BYTES + padded).fill(0x20, LENGTH_BYTES + text.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(text, LENGTH_BYTES);
  return { header, order };
}

/**
 * Writes a `.safetensors` file, local or `gs://`: the header first, then each tensor's bytes in
 * header order. Data given as a function is fetched only when its turn comes, so at most one tensor
 * is in memory. The file appears under `path` only when complete (locally a hidden temporary name in
 * the same folder, renamed; in a bucket an upload finalized whole), so an error never leaves a
 * half-written file under `path`.
 */
export async function writeSafetensors(path: string, tensors: Iterable<SafetensorsTensorSource>, options: SafetensorsWriteOptions = {}): Promise<void> {
  const list = [...tensors];
  const { header, order } = safetensorsHeader(list, options.metadata ?? DEFAULT_METADATA, path);
  await writeFileStreamed(
    path,
    async (sink: ByteSink) => {
      await sink.write(header);
      for (const i of order) {
        const { name, dtype, shape, data } = list[i];
        const size = expectedBytes(dtype, shape) as number;
        if (data === undefined && size !== 0) throw new SafetensorsError(path, name, `no data given for ${dtype} ${JSON.stringify(shape)} (${size} bytes)`);
        const bytes = typeof data === 'function' ? await data() : (data ?? new Uint8Array(0));
        if (!(bytes instanceof Uint8Array)) throw new SafetensorsError(path, name, 'data is not a Uint8Array');
        if (bytes.byteLength !== size)
          throw new SafetensorsError(path, name, `data is ${bytes.byteLength} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${size}`);
        await sink.write(bytes);
      }
    },
    { fsync: options.fsync },
  );
}
