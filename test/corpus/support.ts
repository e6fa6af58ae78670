// Shared by the corpus tests: temporary folders, zstd/JSON-lines/tar builders, collecting async iterables.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { compress, init } from '@bokuweb/zstd-wasm';
import { afterAll, beforeAll } from 'vitest';
import { copyFile, joinPath, localFileSystem } from '../../lib/fs/index.js';

/** A fresh temporary folder for the calling test file, removed afterwards; also loads the zstd wasm. */
export function useTempDir(): () => string {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kbb-corpus-'));
    await init();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return () => dir;
}

/** Writes `content` at `root/relative` (creating folders) and returns the path. */
export function put(root: string, relative: string, content: string | Uint8Array): string {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** One zstd frame (libzstd via wasm, level 3, no checksum — like ko_lm_dataformat's writer). */
export const zst = (content: string | Uint8Array): Buffer => Buffer.from(compress(typeof content === 'string' ? Buffer.from(content) : content, 3));

/** JSON lines as ko_lm_dataformat writes them: one compact object per line, each ending in `\n`. */
export const jsonl = (...docs: unknown[]): string => docs.map((d) => `${JSON.stringify(d)}\n`).join('');

/**
 * A hand-made zstd frame of raw (stored) blocks, to reach header fields libzstd's one-shot API does
 * not write: checksum flag, single-segment, dictionary id, window size, reserved bits.
 */
export function rawFrame(
  payload: Uint8Array,
  options: {
    readonly checksum?: boolean;
    readonly singleSegment?: boolean;
    readonly dictId?: number;
    readonly windowExponent?: number;
    readonly descriptorBits?: number;
  } = {},
): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd])];
  const single = options.singleSegment ?? false;
  let descriptor = (options.checksum ? 0x04 : 0) | (single ? 0x20 : 0) | (options.dictId ? 1 : 0) | (options.descriptorBits ?? 0);
  if (single && payload.length >= 256) descriptor |= 0x40; // 2-byte content size (value - 256)
  parts.push(Buffer.from([descriptor]));
  if (!single) parts.push(Buffer.from([(options.windowExponent ?? 7) << 3])); // 2^(10+7) = 128 KiB
  if (options.dictId) parts.push(Buffer.from([options.dictId]));
  if (single) parts.push(payload.length >= 256 ? Buffer.from([(payload.length - 256) & 0xff, (payload.length - 256) >> 8]) : Buffer.from([payload.length]));
  const blockMax = 128 * 1024;
  let at = 0;
  do {
    const size = Math.min(blockMax, payload.length - at);
    const last = at + size >= payload.length ? 1 : 0;
    const header = (size << 3) | last; // type 0: raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), Buffer.from(payload.subarray(at, at + size)));
    at += size;
  } while (at < payload.length);
  // The checksum is not verified by the reader (fzstd skips it), so any four bytes stand in for it here.
  if (options.checksum) parts.push(Buffer.from([1, 2, 3, 4]));
  return Buffer.concat(parts);
}

/** A zstd skippable frame. */
export const skippableFrame = (payload: Uint8Array): Buffer => {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a53, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

/** A ustar header block (checksum filled in) for a member of `size` bytes and type `type`. */
export function tarHeader(name: string, size: number, type = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\0' + '00', 257, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

/** A tar archive of `members` (data padded to 512 bytes), with or without the two end-of-archive blocks. */
export function tar(members: readonly { readonly name: string; readonly data: Uint8Array; readonly type?: string }[], endBlocks = true): Buffer {
  const parts: Buffer[] = [];
  for (const { name, data, type } of members) {
    parts.push(tarHeader(name, data.length, type), Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (endBlocks) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A pax extended header member's body setting `key=value` records. */
export function paxBody(records: Record<string, string>): Buffer {
  let text = '';
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (`${length}${body}`.length !== length) length++;
    text += `${length}${body}`;
  }
  return Buffer.from(text);
}

/**
 * Copies every file under a local folder to the same relative names under `target` (a `gs://`
 * prefix), through lib/fs as a user's upload would go; returns the relative names.
 */
export async function uploadFolder(localDir: string, target: string): Promise<string[]> {
  const names = await localFileSystem.listRecursive(localDir);
  for (const name of names) await copyFile(join(localDir, name), joinPath(target, name));
  return names;
}
