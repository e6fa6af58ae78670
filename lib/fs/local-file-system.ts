import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { temporaryPath, writeBytesAtomically } from './atomic-write.js';
import type { AppendableFile, AtomicWriteStream, DirectoryEntry, FileInfo, FileSystem, ReadStreamOptions, WriteOptions } from './file-system.js';

/** The local disk, through node:fs; writes go through a hidden temporary name and a rename. */
export const localFileSystem: FileSystem = {
  kind: 'local',

  readFile: (path) => readFile(path),

  async readRange(path, start, length) {
    const handle = await open(path, 'r');
    try {
      const bytes = Buffer.allocUnsafeSlow(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(bytes, got, length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? bytes : bytes.subarray(0, got);
    } finally {
      await handle.close();
    }
  },

  createReadStream: (path: string, options: ReadStreamOptions = {}): Readable => createReadStream(path, options),

  async stat(path): Promise<FileInfo | undefined> {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    return info && { size: info.isDirectory() ? 0 : info.size, isDirectory: info.isDirectory(), modifiedMs: info.mtimeMs };
  },

  async list(dir): Promise<DirectoryEntry[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const out: DirectoryEntry[] = [];
    for (const entry of entries) {
      // Links are followed, as a reader opening the path would.
      const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(dir, entry.name)).catch(() => undefined))?.isDirectory() === true);
      out.push({ name: entry.name, isDirectory });
    }
    return out;
  },

  async listRecursive(dir): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  },

  async writeFile(path: string, data: string | Uint8Array, options: WriteOptions = {}) {
    // Folders are created as needed, as on Cloud Storage, where they are only prefixes.
    await mkdir(dirname(path), { recursive: true });
    await writeBytesAtomically(path, data, options);
  },

  createWriteStream(path, options: WriteOptions = {}): AtomicWriteStream {
    mkdirSync(dirname(path), { recursive: true });
    const tempPath = temporaryPath(path);
    const stream = createWriteStream(tempPath, { flags: 'wx', flush: options.fsync ?? true });
    let failure: Error | undefined;
    stream.on('error', (error) => {
      failure ??= error;
    });
    const closed = (): Promise<void> => (stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve())));
    let settled: Promise<void> | undefined;
    return {
      stream,
      commit() {
        settled ??= (async () => {
          await new Promise<void>((resolve) => {
            stream.once('close', resolve);
            stream.end();
          });
          if (failure) {
            await unlink(tempPath).catch(() => undefined);
            throw new Error(`${path}: cannot write (${failure.message})`, { cause: failure });
          }
          await rename(tempPath, path);
        })();
        return settled;
      },
      async abort() {
        if (settled) return settled.catch(() => undefined);
        settled = (async () => {
          stream.destroy();
          await closed();
          await unlink(tempPath).catch(() => undefined);
        })();
        return settled;
      },
    };
  },

  async createAppendable(path): Promise<AppendableFile> {
    const handle = await open(path, 'ax');
    return {
      path,
      append: async (bytes) => {
        await handle.write(bytes);
      },
      flush: async (sync = false) => {
        if (sync) await handle.sync();
      },
      close: async () => {
        await handle.sync();
        await handle.close();
      },
    };
  },

  mkdir: async (dir) => {
    await mkdir(dir, { recursive: true });
  },

  remove: (path) => rm(path, { force: true }),
};
