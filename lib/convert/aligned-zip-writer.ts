import { crc32 } from '../checksum/crc32.js';
import type { ByteSink } from '../fs/streamed-write.js';

/*
 * A ZIP writer by hand, rather than a zip library, because a PyTorch archive needs two things
 * general libraries do not give: every entry's data must start on a 64-byte boundary (torch pads
 * the local header's extra field for this, and `torch.load(mmap=True)` maps storages in place),
 * and entries must stream to disk one at a time so a multi-gigabyte checkpoint never sits in
 * memory whole. Entries are STORED (never compressed), which leaves little else to write.
 */

export interface AlignedZipWriterOptions {
  /** Byte boundary each entry's data starts on (default 64, PyTorchStreamWriter's kFieldAlignment). */
  readonly alignment?: number;
  /**
   * Write ZIP64 fields and end records even where the plain ones would do. Only tests want this:
   * it exercises the layout that archives over 4 GiB or 65535 entries get, without writing 4 GiB.
   */
  readonly forceZip64?: boolean;
}

interface CentralEntry {
  readonly name: Uint8Array;
  readonly flags: number;
  readonly crc: number;
  readonly size: number;
  readonly headerOffset: number;
}

const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_BYTES = 22;
const ZIP64_END_BYTES = 56;
const ZIP64_LOCATOR_BYTES = 20;
/** Values at or above these do not fit the plain fields, which then hold this marker instead. */
const MAX_U32 = 0xffff_ffff;
const MAX_U16 = 0xffff;
const ZIP64_TAG = 0x0001;
/** The extra-field id torch's writer pads with ("FB", then that many 'Z' bytes). */
const PADDING_TAG = [0x46, 0x42];
const PADDING_FILL = 0x5a;
const VERSION_PLAIN = 20;
const VERSION_ZIP64 = 45;
const UTF8_NAME_FLAG = 1 << 11;
/** 1980-01-01 00:00, the earliest DOS date, so the same tensors always give the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;
/** Node refuses single writes of 2 GiB or more; larger entries go in pieces. */
const IO_CHUNK_BYTES = 1 << 30;

/** CRC-32 in pieces, so an entry over 2 GiB is no problem for the native binding. */
function crcOf(data: Uint8Array): number {
  let crc = 0;
  for (let start = 0; start < data.length; start += IO_CHUNK_BYTES) crc = crc32(data.subarray(start, start + IO_CHUNK_BYTES), crc);
  return crc >>> 0;
}

/**
 * Appends entries to an open, empty file (any sink that takes bytes in order): each one's local header and data as it is added, the
 * central directory on `finish`. ZIP64 fields appear only where a size, offset or count needs
 * them, as miniz (the library inside torch) does; the file is otherwise plain ZIP 2.0.
 */
export class AlignedZipWriter {
  private position = 0;
  private readonly entries: CentralEntry[] = [];
  private readonly alignment: number;
  private readonly forceZip64: boolean;
  private finished = false;

  constructor(
    /** An open, empty file (a file handle, or the sink of a streamed write, local or `gs://`). */
    private readonly sink: ByteSink,
    options: AlignedZipWriterOptions = {},
  ) {
    this.alignment = options.alignment ?? 64;
    this.forceZip64 = options.forceZip64 ?? false;
    if (!Number.isSafeInteger(this.alignment) || this.alignment < 1 || this.alignment > MAX_U16) {
      throw new RangeError(`alignment ${this.alignment} is not an integer from 1 to ${MAX_U16}`);
    }
  }

  async add(entryName: string, data: Uint8Array): Promise<void> {
    if (this.finished) throw new Error(`cannot add ${JSON.stringify(entryName)}: the archive is already finished`);
    const name = new TextEncoder().encode(entryName);
    if (name.length > MAX_U16) throw new RangeError(`entry name ${JSON.stringify(entryName)} is ${name.length} bytes (the limit is ${MAX_U16})`);
    // As many UTF-8 bytes as UTF-16 units means every character is ASCII, which needs no flag.
    const flags = name.length === entryName.length ? 0 : UTF8_NAME_FLAG;
    const crc = crcOf(data);
    const headerOffset = this.position;
    const sizesInZip64 = this.forceZip64 || data.length >= MAX_U32;

    // The spec wants both sizes in the local ZIP64 field whenever either is there.
    const zip64Extra = sizesInZip64 ? 4 + 16 : 0;
    const unpadded = headerOffset + LOCAL_HEADER_BYTES + name.length + zip64Extra + PADDING_TAG.length + 2;
    const padding = (this.alignment - (unpadded % this.alignment)) % this.alignment;
    const extraLength = zip64Extra + PADDING_TAG.length + 2 + padding;

    const header = new Uint8Array(LOCAL_HEADER_BYTES + name.length + extraLength);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x04034b50, true);
    view.setUint16(4, sizesInZip64 ? VERSION_ZIP64 : VERSION_PLAIN, true);
    view.setUint16(6, flags, true);
    view.setUint16(8, 0, true); // STORED
    view.setUint16(10, DOS_TIME, true);
    view.setUint16(12, DOS_DATE, true);
    view.setUint32(14, crc, true);
    view.setUint32(18, sizesInZip64 ? MAX_U32 : data.length, true);
    view.setUint32(22, sizesInZip64 ? MAX_U32 : data.length, true);
    view.setUint16(26, name.length, true);
    view.setUint16(28, extraLength, true);
    header.set(name, LOCAL_HEADER_BYTES);
    let at = LOCAL_HEADER_BYTES + name.length;
    if (sizesInZip64) {
      view.setUint16(at, ZIP64_TAG, true);
      view.setUint16(at + 2, 16, true);
      view.setBigUint64(at + 4, BigInt(data.length), true);
      view.setBigUint64(at + 12, BigInt(data.length), true);
      at += zip64Extra;
    }
    header.set(PADDING_TAG, at);
    view.setUint16(at + 2, padding, true);
    header.fill(PADDING_FILL, at + 4);

    await this.write(header);
    await this.write(data);
    this.entries.push({ name, flags, crc, size: data.length, headerOffset });
  }

  /** Writes the central directory and end records; the archive is then complete. */
  async finish(): Promise<void> {
    if (this.finished) throw new Error('the archive is already finished');
    this.finished = true;
    const directoryOffset = this.position;
    const parts: Uint8Array[] = this.entries.map((entry) => this.centralHeader(entry));
    const directorySize = parts.reduce((sum, part) => sum + part.length, 0);
    const count = this.entries.length;
    const endInZip64 = this.forceZip64 || count >= MAX_U16 || directoryOffset >= MAX_U32 || directorySize >= MAX_U32;

    if (endInZip64) {
      const zip64End = new Uint8Array(ZIP64_END_BYTES + ZIP64_LOCATOR_BYTES);
      const view = new DataView(zip64End.buffer);
      view.setUint32(0, 0x06064b50, true);
      view.setBigUint64(4, BigInt(ZIP64_END_BYTES - 12), true); // size of what follows this field
      view.setUint16(12, VERSION_ZIP64, true);
      view.setUint16(14, VERSION_ZIP64, true);
      view.setUint32(16, 0, true); // this disk
      view.setUint32(20, 0, true); // disk holding the directory
      view.setBigUint64(24, BigInt(count), true);
      view.setBigUint64(32, BigInt(count), true);
      view.setBigUint64(40, BigInt(directorySize), true);
      view.setBigUint64(48, BigInt(directoryOffset), true);
      view.setUint32(56, 0x07064b50, true);
      view.setUint32(60, 0, true); // disk holding the ZIP64 end record
      view.setBigUint64(64, BigInt(directoryOffset + directorySize), true);
      view.setUint32(72, 1, true); // disks in all
      parts.push(zip64End);
    }

    const end = new Uint8Array(END_BYTES);
    const view = new DataView(end.buffer);
    view.setUint32(0, 0x06054b50, true);
    view.setUint16(4, 0, true);
    view.setUint16(6, 0, true);
    view.setUint16(8, endInZip64 ? MAX_U16 : count, true);
    view.setUint16(10, endInZip64 ? MAX_U16 : count, true);
    view.setUint32(12, endInZip64 ? MAX_U32 : directorySize, true);
    view.setUint32(16, endInZip64 ? MAX_U32 : directoryOffset, true);
    view.setUint16(20, 0, true); // comment length
    parts.push(end);
    for (const part of parts) await this.write(part);
  }

  private centralHeader({ name, flags, crc, size, headerOffset }: CentralEntry): Uint8Array {
    const sizesInZip64 = this.forceZip64 || size >= MAX_U32;
    const offsetInZip64 = this.forceZip64 || headerOffset >= MAX_U32;
    const zip64Values = (sizesInZip64 ? 2 : 0) + (offsetInZip64 ? 1 : 0);
    const extraLength = zip64Values === 0 ? 0 : 4 + 8 * zip64Values;
    const header = new Uint8Array(CENTRAL_HEADER_BYTES + name.length + extraLength);
    const view = new DataView(header.buffer);
    const version = zip64Values === 0 ? VERSION_PLAIN : VERSION_ZIP64;
    view.setUint32(0, 0x02014b50, true);
    view.setUint16(4, version, true); // made by (MS-DOS attributes, this spec version)
    view.setUint16(6, version, true); // needed to extract
    view.setUint16(8, flags, true);
    view.setUint16(10, 0, true); // STORED
    view.setUint16(12, DOS_TIME, true);
    view.setUint16(14, DOS_DATE, true);
    view.setUint32(16, crc, true);
    view.setUint32(20, sizesInZip64 ? MAX_U32 : size, true);
    view.setUint32(24, sizesInZip64 ? MAX_U32 : size, true);
    view.setUint16(28, name.length, true);
    view.setUint16(30, extraLength, true);
    // Comment length, disk, internal and external attributes stay 0.
    view.setUint32(42, offsetInZip64 ? MAX_U32 : headerOffset, true);
    header.set(name, CENTRAL_HEADER_BYTES);
    if (zip64Values > 0) {
      // The values appear in this fixed order, each only where its plain field holds the marker.
      let at = CENTRAL_HEADER_BYTES + name.length;
      view.setUint16(at, ZIP64_TAG, true);
      view.setUint16(at + 2, 8 * zip64Values, true);
      at += 4;
      if (sizesInZip64) {
        view.setBigUint64(at, BigInt(size), true);
        view.setBigUint64(at + 8, BigInt(size), true);
        at += 16;
      }
      if (offsetInZip64) view.setBigUint64(at, BigInt(headerOffset), true);
    }
    return header;
  }

  private async write(bytes: Uint8Array): Promise<void> {
    for (let start = 0; start < bytes.length; start += IO_CHUNK_BYTES) await this.sink.write(bytes.subarray(start, start + IO_CHUNK_BYTES));
    this.position += bytes.length;
  }
}
