import { describe, expect, it } from 'vitest';
import { ZstdFrameWalker } from '../../lib/corpus/index.js';
import { rawFrame, skippableFrame, useTempDir, zst } from './support.js';

describe('ZstdFrameWalker', () => {
  useTempDir(); // loads the zstd wasm

  const ends = (bytes: Uint8Array, step: number): number[] => {
    const walker = new ZstdFrameWalker();
    const out: number[] = [];
    for (let at = 0; at < bytes.length; at += step) out.push(...walker.feed(bytes.subarray(at, at + step)).map((end) => at + end));
    walker.finish();
    return out;
  };

  it('finds every frame end, whatever the feed size', () => {
    const frames = [
      zst('하나\n'.repeat(1000)),
      skippableFrame(Buffer.from('meta')),
      rawFrame(Buffer.alloc(0)),
      rawFrame(Buffer.alloc(300_000, 0x61), { checksum: true }),
      rawFrame(Buffer.from('x'), { singleSegment: true }),
      skippableFrame(Buffer.alloc(0)),
    ];
    const bytes = Buffer.concat(frames);
    const expected: number[] = [];
    let at = 0;
    for (const frame of frames) {
      at += frame.length;
      expected.push(at);
    }
    for (const step of [1, 2, 3, 7, 512, bytes.length]) expect(ends(bytes, step), `step ${step}`).toEqual(expected);
  });

  it('reports where a truncated stream stops and which frame it cuts into', () => {
    const first = zst('first');
    const walker = new ZstdFrameWalker(1000);
    walker.feed(Buffer.concat([first, zst('second').subarray(0, 5)]));
    expect(() => walker.finish()).toThrow(`truncated zstd stream: the data ends inside the frame that starts at byte ${1000 + first.length}`);
    expect(walker.atFrameBoundary).toBe(false);
  });

  it('stops at the first structural error and keeps the frame ends before it', () => {
    const good = zst('ok');
    const walker = new ZstdFrameWalker();
    expect(walker.feed(Buffer.concat([good, Buffer.from([1, 2, 3, 4, 5])]))).toEqual([good.length]);
    expect(walker.error?.byteOffset).toBe(good.length);
    expect(walker.feed(zst('more'))).toEqual([]);
    expect(() => walker.finish()).toThrow(/not zstd data/);
  });

  it('reports every block end too, when asked, whatever the feed size', () => {
    // Three raw blocks of 128 KiB, 128 KiB and 10 bytes, a checksum after them; then a one-block frame.
    const big = rawFrame(Buffer.alloc(2 * 128 * 1024 + 10, 0x62), { checksum: true });
    const small = rawFrame(Buffer.from('x'));
    const bytes = Buffer.concat([big, small]);
    const header = 6; // magic, descriptor, window byte
    const expected = [header + 3 + 131072, header + 2 * (3 + 131072), big.length - 4, big.length + small.length];
    for (const step of [1, 5, 4096, bytes.length]) {
      const walker = new ZstdFrameWalker();
      const blocks: number[] = [];
      for (let at = 0; at < bytes.length; at += step) {
        const out: number[] = [];
        walker.feed(bytes.subarray(at, at + step), out);
        blocks.push(...out.map((end) => at + end));
      }
      walker.finish();
      expect(blocks, `step ${step}`).toEqual(expected);
    }
  });

  it('refuses many tiny frames that each declare a 128 MiB window before decompressing them (a decompression bomb)', () => {
    // magic, descriptor (no content size), window 2^27, one last raw block of one byte: 10 bytes a frame.
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88, 0x09, 0x00, 0x00, 0x61]);
    const walker = new ZstdFrameWalker();
    expect(walker.feed(Buffer.concat(Array.from({ length: 7 }, () => frame))).length).toBe(7);
    walker.feed(Buffer.concat(Array.from({ length: 100 }, () => frame)));
    expect(walker.error?.message).toMatch(/^zstd frames declare \d+ bytes of windows for 8 blocks of data, far more than the data can use/);
    expect(walker.error?.byteOffset).toBe(8 * frame.length);
  });

  it('refuses a frame that declares a 128 MiB window and then holds thousands of one-byte blocks', () => {
    // magic, descriptor, window 2^27, then RLE blocks of one byte ((1 << 3) | (1 << 1) = 0x0a) and a last one.
    const rle = Buffer.from([0x0a, 0x00, 0x00, 0x61]);
    const frame = Buffer.concat([
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88]),
      ...Array.from({ length: 5000 }, () => rle),
      Buffer.from([0x0b, 0x00, 0x00, 0x61]),
    ]);
    const walker = new ZstdFrameWalker();
    walker.feed(frame);
    expect(walker.error?.message).toMatch(/^zstd frame with a 134217728-byte window holds 65 blocks of at most 65 bytes in all/);
  });
});
