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
});
