/**
 * Follows the frame and block headers of a zstd stream (RFC 8878) as its bytes arrive, without
 * decompressing anything. fzstd decodes, but it neither says where a frame ends nor minds input that
 * stops mid-frame; this walker supplies both, so a reader can hand fzstd one frame at a time, name the
 * frame a decoding error is in, and report a truncated stream at the exact frame it cuts into.
 * It also refuses what libzstd (under python-zstandard) refuses by default: windows over 128 MiB
 * plus one byte, dictionary frames, reserved bits and block types.
 */

/** A structural problem, at a byte offset of the compressed stream. */
export class ZstdStructureError extends Error {
  constructor(
    message: string,
    readonly byteOffset: number,
  ) {
    super(message);
    this.name = 'ZstdStructureError';
  }
}

const ZSTD_MAGIC = 0xfd2fb528;
const BLOCK_SIZE_MAX = 128 * 1024;
// libzstd's ZSTD_WINDOWLOG_LIMIT_DEFAULT (27): larger windows need an explicit opt-in there.
const WINDOW_SIZE_MAX = 2 ** 27 + 1;
/**
 * Windows the frames of one stream may declare in all: 1 GiB, plus 64 times what their blocks can
 * hold. The decompressor allocates and shifts each frame's whole window, so a file of many tiny
 * frames that each declare 128 MiB would cost seconds per kilobyte; real archives (one frame, or
 * frames of megabytes with windows of a few megabytes) stay far below this.
 */
const WINDOW_BUDGET_BASE = 2 ** 30;
const WINDOW_BUDGET_PER_BLOCK = 64 * 128 * 1024;
/**
 * The same within frames: the decompressor moves a frame's whole window along after each block, so
 * a frame that declares 128 MiB and then holds thousands of one-byte blocks costs minutes per
 * kilobyte. The window bytes moved may come to 8 GiB (a few seconds) plus 256 times the bytes the
 * blocks can hold: windows up to 32 MiB (zstd's levels up to 19 use 8 MiB) are never limited.
 */
const WINDOW_WORK_BASE = 2 ** 33;
const WINDOW_WORK_PER_BYTE = 256;

type Expect = 'magic' | 'skippableSize' | 'skippableBody' | 'descriptor' | 'header' | 'blockHeader' | 'checksum';

export class ZstdFrameWalker {
  /** Offset of the next byte. */
  private offset: number;
  /** Offset of the frame being read (or of the next one, between frames). */
  frameStart: number;
  private expect: Expect = 'magic';
  private readonly field = new Uint8Array(16);
  private need = 4;
  private have = 0;
  private skip = 0;
  private descriptor = 0;
  private checksum = false;
  /** Window bytes the frames so far declared, and blocks they held: see WINDOW_BUDGET_BASE. */
  private declaredWindows = 0;
  private blocks = 0;
  /** The current frame's window, the window bytes moved so far, and the most the blocks can hold: see WINDOW_WORK_BASE. */
  private frameWindow = 0;
  private windowWork = 0;
  private blockBytes = 0;
  private lastBlock = false;

  /** @param baseOffset where the stream starts in its file (a tar member's data), so offsets name file bytes */
  constructor(baseOffset = 0) {
    this.offset = baseOffset;
    this.frameStart = baseOffset;
  }

  /** The first structural problem met; once set, `feed` takes nothing more. */
  error: ZstdStructureError | undefined;

  /** Where `feed` records block ends, while it runs. */
  private blockEnds: number[] | undefined;

  /**
   * Takes the next compressed bytes; returns the offsets inside `chunk` at which frames end (after
   * their last block and checksum), in order. On a malformed header it stops, sets `error`, and
   * returns the frame ends before it — so the frames that were fine can still be decoded first.
   * `blockEnds`, when given, receives the offsets inside `chunk` at which blocks end, in order: a
   * block decompresses to at most 128 KiB, so a reader that hands the decoder one block at a time
   * holds at most that much decompressed data per step, however well the input compresses.
   */
  feed(chunk: Uint8Array, blockEnds?: number[]): number[] {
    const ends: number[] = [];
    if (this.error) return ends;
    this.blockEnds = blockEnds;
    try {
      this.walk(chunk, ends);
    } catch (error) {
      if (!(error instanceof ZstdStructureError)) throw error;
      this.error = error;
    } finally {
      this.blockEnds = undefined;
    }
    return ends;
  }

  private walk(chunk: Uint8Array, ends: number[]): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        this.offset += n;
        if (this.skip === 0) this.afterSkip(ends, i);
        continue;
      }
      this.field[this.have++] = chunk[i++];
      this.offset++;
      if (this.have === this.need) {
        this.have = 0;
        this.onField(ends, i);
      }
    }
  }

  /** True when the bytes so far end exactly between frames (or there were none). */
  get atFrameBoundary(): boolean {
    return this.expect === 'magic' && this.have === 0 && this.skip === 0;
  }

  /** Throws unless the stream ended between frames (or `error` if one was met). */
  finish(): void {
    if (this.error) throw this.error;
    if (this.atFrameBoundary) return;
    if (this.expect === 'magic') {
      throw new ZstdStructureError(`the data ends with ${this.have} stray byte(s) after the last complete frame`, this.frameStart);
    }
    throw new ZstdStructureError(`truncated zstd stream: the data ends inside the frame that starts at byte ${this.frameStart}`, this.offset);
  }

  private onField(ends: number[], at: number): void {
    const f = this.field;
    switch (this.expect) {
      case 'magic': {
        this.frameStart = this.offset - 4;
        const magic = (f[0] | (f[1] << 8) | (f[2] << 16) | (f[3] << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) return this.want('descriptor', 1);
        if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) return this.want('skippableSize', 4);
        throw new ZstdStructureError(`not zstd data (frame magic ${hex(magic)})`, this.frameStart);
      }
      case 'skippableSize': {
        this.expect = 'skippableBody'; // the frame ends when its body has gone by
        this.skip = (f[0] | (f[1] << 8) | (f[2] << 16) | (f[3] << 24)) >>> 0;
        if (this.skip === 0) this.endFrame(ends, at);
        return;
      }
      case 'descriptor': {
        const d = f[0];
        if (d & 0x08) throw new ZstdStructureError('corrupt zstd frame header (reserved bit set)', this.offset - 1);
        this.descriptor = d;
        this.checksum = (d & 0x04) !== 0;
        const singleSegment = (d & 0x20) !== 0;
        const dictIdBytes = [0, 1, 2, 4][d & 3];
        const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][d >> 6];
        return this.want('header', (singleSegment ? 0 : 1) + dictIdBytes + contentSizeBytes);
      }
      case 'header': {
        const d = this.descriptor;
        const singleSegment = (d & 0x20) !== 0;
        let k = 0;
        let windowSize = 0;
        if (!singleSegment) {
          const exponent = f[k] >> 3;
          const base = 2 ** (10 + exponent);
          windowSize = base + (base / 8) * (f[k] & 7);
          k++;
        }
        const dictIdBytes = [0, 1, 2, 4][d & 3];
        const dictId = readLE(f, k, dictIdBytes);
        k += dictIdBytes;
        const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][d >> 6];
        const contentSize = readLE(f, k, contentSizeBytes) + (contentSizeBytes === 2 ? 256 : 0);
        if (singleSegment) windowSize = contentSize;
        if (dictId !== 0) throw new ZstdStructureError(`zstd frame needs dictionary ${dictId}, which this reader does not have`, this.frameStart);
        if (windowSize > WINDOW_SIZE_MAX)
          throw new ZstdStructureError(`zstd frame needs a ${windowSize}-byte window (more than libzstd's default limit of 128 MiB)`, this.frameStart);
        this.declaredWindows += windowSize;
        this.frameWindow = windowSize;
        if (this.declaredWindows > WINDOW_BUDGET_BASE + WINDOW_BUDGET_PER_BLOCK * (this.blocks + 1))
          throw new ZstdStructureError(
            `zstd frames declare ${this.declaredWindows} bytes of windows for ${this.blocks} blocks of data, far more than the data can use (a decompression bomb?)`,
            this.frameStart,
          );
        return this.want('blockHeader', 3);
      }
      case 'blockHeader': {
        const header = f[0] | (f[1] << 8) | (f[2] << 16);
        this.lastBlock = (header & 1) === 1;
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw new ZstdStructureError('corrupt zstd block (reserved block type)', this.offset - 3);
        this.blocks++;
        this.windowWork += this.frameWindow;
        this.blockBytes += type === 2 ? BLOCK_SIZE_MAX : size; // raw and RLE blocks say what they hold
        if (this.windowWork > WINDOW_WORK_BASE + WINDOW_WORK_PER_BYTE * this.blockBytes)
          throw new ZstdStructureError(
            `zstd frame with a ${this.frameWindow}-byte window holds ${this.blocks} blocks of at most ${this.blockBytes} bytes in all: decoding them would move the window far more than the data can need (a decompression bomb?)`,
            this.offset - 3,
          );
        if (size > BLOCK_SIZE_MAX) throw new ZstdStructureError(`corrupt zstd block (size ${size} over the 128 KiB maximum)`, this.offset - 3);
        this.skip = type === 1 ? 1 : size; // an RLE block stores its one byte
        if (this.skip === 0) this.afterSkip(ends, at);
        return;
      }
      case 'checksum':
        return this.endFrame(ends, at);
      case 'skippableBody':
        return; // read by skipping, never as a field
    }
  }

  /** The bytes a field or block body announced have all gone by. */
  private afterSkip(ends: number[], at: number): void {
    if (this.expect === 'skippableBody') return this.endFrame(ends, at);
    this.blockEnds?.push(at);
    if (!this.lastBlock) return this.want('blockHeader', 3);
    if (this.checksum) return this.want('checksum', 4);
    this.endFrame(ends, at);
  }

  private endFrame(ends: number[], at: number): void {
    ends.push(at);
    this.frameStart = this.offset;
    this.want('magic', 4);
  }

  private want(expect: Expect, bytes: number): void {
    this.expect = expect;
    this.need = bytes;
    this.have = 0;
  }
}

function readLE(bytes: Uint8Array, at: number, length: number): number {
  let value = 0;
  for (let k = length - 1; k >= 0; k--) value = value * 256 + bytes[at + k];
  return value;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
