import { PassThrough, type Readable, Transform } from 'node:stream';
import type { Bucket, File, Storage } from '@google-cloud/storage';
import { crc32c } from '../checksum/crc32.js';
import type { AppendableFile, AtomicWriteStream, DirectoryEntry, FileInfo, FileSystem, ReadStreamOptions } from './file-system.js';
import { asPrefix, parseGcsPath } from './gcs-path.js';
import { CredentialsError, StorageError, storageError } from './storage-error.js';

/*
 * Cloud Storage through @google-cloud/storage. The client follows Google's Application Default
 * Credentials, and STORAGE_EMULATOR_HOST when set (the test suite points it at a local emulator).
 *
 * Uploads are whole objects: Cloud Storage makes an object visible only when its upload is
 * finalized, so a crash mid-upload leaves the old object (or none), never part of one. Every upload
 * is checked with CRC-32C: a whole buffer's is sent with it, so the service refuses a corrupt body
 * before finalizing; a stream's is compared by the client once the service has it, and the object
 * deleted on a mismatch.
 */

let client: { storage: Promise<Storage>; host: string | undefined } | undefined;

/**
 * One client per process, made again if STORAGE_EMULATOR_HOST changes (tests start emulators of
 * their own). Outside the emulator the credentials are looked up once, first: without them the
 * client would go on unauthenticated and fail later with a less helpful message.
 */
function storage(path: string): Promise<Storage> {
  const host = process.env.STORAGE_EMULATOR_HOST;
  if (!client || client.host !== host) {
    const made = (async () => {
      const { Storage: StorageClient, IdempotencyStrategy } = await import('@google-cloud/storage');
      // Every write kbb makes replaces an object with bytes that are complete and checked, so retrying
      // one after a dropped connection is safe: the default retries only requests with preconditions.
      const created = new StorageClient({
        crc32cGenerator: nativeCrc32c,
        retryOptions: { autoRetry: true, idempotencyStrategy: IdempotencyStrategy.RetryAlways },
      });
      if (!host)
        await created.authClient.getClient().catch((error: Error) => {
          throw new CredentialsError(error.message, { cause: error });
        });
      return created;
    })();
    const entry = { storage: made, host };
    client = entry;
    // A failed lookup is not kept: the user may log in and try again in the same kbb> session.
    made.catch(() => {
      if (client === entry) client = undefined;
    });
  }
  return client.storage.catch((error: unknown) => {
    throw storageError(error, path, 'read');
  });
}

async function fileAt(path: string): Promise<{ file: File; bucket: Bucket; name: string }> {
  const { bucket, name } = parseGcsPath(path);
  if (name === '') throw new StorageError(path, 'EISDIR', 'a bucket, not an object');
  const b = (await storage(path)).bucket(bucket);
  return { file: b.file(name), bucket: b, name };
}

/** A CRC-32C in Cloud Storage's spelling: four big-endian bytes, base64. */
export const crc32cBase64 = (crc: number): string => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0);
  return bytes.toString('base64');
};

const crc32cFromBase64 = (text: string | undefined): number | undefined => (text ? Buffer.from(text, 'base64').readUInt32BE(0) : undefined);

/** The client's CRC-32C for validating uploads and downloads, computed natively rather than by its table in JavaScript. */
function nativeCrc32c() {
  let crc = 0;
  return {
    update: (data: Buffer) => {
      crc = crc32c(data, crc);
    },
    toString: () => crc32cBase64(crc),
    validate: (value: string) => value === crc32cBase64(crc),
  };
}

/** Pages through one listing; `prefixes` are the "folders" a delimiter listing reports. */
async function listPages(path: string, prefix: string, delimiter: string | undefined): Promise<{ names: string[]; prefixes: string[] }> {
  const { bucket } = parseGcsPath(path);
  const b = (await storage(path)).bucket(bucket);
  const names: string[] = [];
  const prefixes: string[] = [];
  let pageToken: string | undefined;
  try {
    do {
      const [files, next, response] = await b.getFiles({ prefix, delimiter, autoPaginate: false, maxResults: 1000, pageToken });
      names.push(...files.map((f) => f.name));
      prefixes.push(...(((response as { prefixes?: string[] } | undefined)?.prefixes as string[] | undefined) ?? []));
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  } catch (error) {
    throw storageError(error, path, 'list');
  }
  // A delimiter listing may repeat a prefix on every page it spans.
  return { names, prefixes: [...new Set(prefixes)] };
}

export const gcsFileSystem: FileSystem = {
  kind: 'gcs',

  async readFile(path) {
    const { file } = await fileAt(path);
    try {
      const [bytes] = await file.download({ validation: 'crc32c' });
      return bytes;
    } catch (error) {
      throw storageError(error, path, 'read');
    }
  },

  async readRange(path, start, length) {
    if (length === 0) return Buffer.alloc(0);
    const { file } = await fileAt(path);
    try {
      // Ranged reads cannot be checked against the object's CRC; TFRecords and checkpoints carry their own.
      const [bytes] = await file.download({ start, end: start + length - 1, validation: false });
      // A server that ignores a range it cannot satisfy answers with the whole object.
      return bytes.length > length ? bytes.subarray(start, start + length) : bytes;
    } catch (error) {
      // A range past the end answers 416: the file ends before `start`.
      if ((error as { code?: number }).code === 416) return Buffer.alloc(0);
      throw storageError(error, path, 'read');
    }
  },

  createReadStream(path: string, options: ReadStreamOptions = {}): Readable {
    const start = options.start ?? 0;
    const ranged = options.start !== undefined || options.end !== undefined;
    // What the server sends is cut to the range asked for: a server that cannot satisfy a range may
    // answer with the whole object (the emulator does, for a start at the end), Cloud Storage with 416.
    let skip = 0;
    let left = options.end === undefined ? Number.POSITIVE_INFINITY : options.end - start + 1;
    const out = new Transform({
      readableHighWaterMark: options.highWaterMark,
      transform(chunk: Buffer, _encoding, done) {
        let part = chunk;
        if (skip > 0) {
          const dropped = Math.min(skip, part.length);
          skip -= dropped;
          part = part.subarray(dropped);
        }
        if (part.length > left) part = part.subarray(0, left);
        left -= part.length;
        done(null, part.length > 0 ? part : undefined);
      },
    });
    fileAt(path).then(
      ({ file }) => {
        const source = file.createReadStream({ start: options.start, end: options.end, validation: ranged ? false : 'crc32c' });
        source.on('response', (response: { statusCode?: number }) => {
          if (ranged && start > 0 && response.statusCode === 200) skip = start;
        });
        source.on('error', (error: { code?: number }) => {
          if (error.code === 416) out.end();
          else out.destroy(storageError(error, path, 'read'));
        });
        out.on('close', () => source.destroy());
        source.pipe(out);
      },
      (error) => out.destroy(error),
    );
    return out;
  },

  async stat(path): Promise<FileInfo | undefined> {
    const { bucket, name } = parseGcsPath(path);
    if (name !== '' && !name.endsWith('/')) {
      try {
        const [metadata] = await (await storage(path)).bucket(bucket).file(name).getMetadata();
        return {
          size: Number(metadata.size ?? 0),
          isDirectory: false,
          crc32c: crc32cFromBase64(metadata.crc32c),
          modifiedMs: Date.parse(String(metadata.updated ?? metadata.timeCreated ?? 0)),
        };
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw storageError(error, path, 'stat');
      }
    }
    const b = (await storage(path)).bucket(bucket);
    try {
      const [files] = await b.getFiles({ prefix: asPrefix(name), autoPaginate: false, maxResults: 1 });
      return files.length > 0 ? { size: 0, isDirectory: true, modifiedMs: 0 } : undefined;
    } catch (error) {
      throw storageError(error, path, 'list');
    }
  },

  async list(dir): Promise<DirectoryEntry[]> {
    const prefix = asPrefix(parseGcsPath(dir).name);
    const { names, prefixes } = await listPages(dir, prefix, '/');
    return [
      ...prefixes.map((p) => ({ name: p.slice(prefix.length).replace(/\/$/, ''), isDirectory: true })),
      // A zero-byte object named like the folder itself (what the console's "create folder" makes) is not an entry.
      ...names.filter((n) => n !== prefix).map((n) => ({ name: n.slice(prefix.length), isDirectory: false })),
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  },

  async listRecursive(dir): Promise<string[]> {
    const prefix = asPrefix(parseGcsPath(dir).name);
    const { names } = await listPages(dir, prefix, undefined);
    return names.filter((n) => !n.endsWith('/')).map((n) => n.slice(prefix.length));
  },

  async writeFile(path, data) {
    const { file } = await fileAt(path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      // One request with the CRC-32C given up front: the service checks it before the object exists.
      await file.save(bytes, { resumable: false, validation: 'crc32c', metadata: { crc32c: crc32cBase64(crc32c(bytes)) } });
    } catch (error) {
      throw storageError(error, path, 'write');
    }
  },

  createWriteStream(path): AtomicWriteStream {
    // Bytes written before the client is ready wait here; the upload starts when it is.
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    let failure: Error | undefined;
    let upload: NodeJS.WritableStream | undefined;
    let aborted = false;
    const finished = fileAt(path).then(
      ({ file }) =>
        new Promise<void>((resolve, reject) => {
          if (aborted) return resolve();
          // Resumable, in one streamed request (the client resumes it from the last byte the service has
          // if the connection drops); nothing exists until it is finalized.
          const sink = file.createWriteStream({ resumable: true, validation: 'crc32c' });
          upload = sink;
          sink.on('error', (error: Error) => {
            failure ??= storageError(error, path, 'write');
            // With the reason, so that a writer waiting on a write hears why (its 'error' is listened to below).
            stream.destroy(failure);
            reject(failure);
          });
          sink.on('finish', () => resolve());
          stream.pipe(sink);
        }),
      (error: Error) => {
        failure = error;
        stream.destroy(error);
        throw error;
      },
    );
    finished.catch(() => undefined);
    stream.on('error', (error) => {
      failure ??= error;
    });
    let settled: Promise<void> | undefined;
    return {
      stream,
      commit() {
        settled ??= (async () => {
          if (failure) throw failure;
          stream.end();
          await finished;
          if (failure) throw failure;
        })();
        return settled;
      },
      async abort() {
        if (settled) return settled.catch(() => undefined);
        aborted = true;
        settled = (async () => {
          // Destroying the upload before its last chunk leaves the session unfinished: no object.
          const pending = upload as (NodeJS.WritableStream & { destroy?: (e?: Error) => void }) | undefined;
          pending?.destroy?.(new Error('aborted'));
          stream.destroy();
          await finished.catch(() => undefined);
        })();
        return settled;
      },
    };
  },

  async createAppendable(path): Promise<AppendableFile> {
    if (await gcsFileSystem.stat(path)) throw new StorageError(path, 'EEXIST', 'already exists');
    const parts: Buffer[] = [];
    let size = 0;
    let uploaded = -1;
    const flush = async (): Promise<void> => {
      if (uploaded === size) return;
      const whole = Buffer.concat(parts, size);
      parts.length = 0;
      parts.push(whole);
      await gcsFileSystem.writeFile(path, whole);
      uploaded = whole.length;
    };
    // The file exists from the start, as a local one does.
    await flush();
    return {
      path,
      append: async (bytes) => {
        parts.push(Buffer.from(bytes));
        size += bytes.length;
      },
      flush: () => flush(),
      close: () => flush(),
    };
  },

  mkdir: async () => {},

  async remove(path) {
    const { file } = await fileAt(path);
    try {
      await file.delete({ ignoreNotFound: true });
    } catch (error) {
      throw storageError(error, path, 'delete');
    }
  },
};
