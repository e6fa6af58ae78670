import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pMap from 'p-map';
import { CheckpointReader, dataFileName } from '../checkpoint/tensor-bundle-reader.js';
import { crc32c } from '../checksum/crc32.js';
import { fileSystemFor, METADATA_REQUESTS_IN_FLIGHT } from '../fs/file-system-for.js';
import { baseName, joinPath } from '../fs/paths.js';
import { MANIFEST_FILE } from '../pretraining/build-files.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import { TRAINING_FILE_PREFIX } from '../train/pretraining-input.js';
import { crc32cOfFile } from './file-crc32c.js';

/**
 * Where `kbb stage` puts each piece under its destination: the folders of KoBigBird's README
 * (`gsutil -m cp -r pretrain_tfrecords init_checkpoint gs://BUCKET`), plus the tokenizer, which the
 * TPU VM copies to its disk because the reference trainer reads it with `os.listdir`.
 */
export const STAGE_LAYOUT = Object.freeze({
  /** The build folder's files: what the trainer's `--data_dir` names. */
  data: 'pretrain_tfrecords',
  /** The checkpoint's `.index` and `.data-*` files, under the checkpoint's own name. */
  initCheckpoint: 'init_checkpoint',
  /** The tokenizer folder's files. */
  tokenizer: 'tokenizer',
});

/** `kbb stage`'s defaults. */
export const STAGE_DEFAULTS = Object.freeze({
  /** Uploads at once: enough to fill a link with Cloud Storage's per-stream latency, few enough for a small machine. */
  concurrency: 8,
});

export interface StageOptions {
  /** The `gs://bucket/prefix` everything goes under (a local folder works too, for a copy elsewhere). */
  readonly destination: string;
  /** A build folder (`kbb build-tfrecord --output_dir`): every file in it but hidden temporaries goes to `DEST/pretrain_tfrecords/`. */
  readonly dataDir?: string;
  /**
   * A checkpoint prefix (`path/bert_model.ckpt`): its `.index` and `.data-*` files go to
   * `DEST/init_checkpoint/` under the same name. The folder's `checkpoint` file is not staged: the
   * trainer's `--init_checkpoint` names the prefix, and that file may name checkpoints not staged.
   */
  readonly initCheckpoint?: string;
  /** A tokenizer folder: its files go to `DEST/tokenizer/`. */
  readonly tokenizerDir?: string;
  /** Uploads at once (default `STAGE_DEFAULTS.concurrency`). */
  readonly concurrency?: number;
  /** Stops starting uploads; those under way are dropped (nothing appears half-written). */
  readonly signal?: AbortSignal;
  /** Hears of every chunk checked, uploaded or verified. */
  readonly onProgress?: (progress: StageProgress) => void;
}

/** `checking` reads local files whose object is already there, to compare CRCs; `verifying` compares every object at the end. */
export type StagePhase = 'checking' | 'uploading' | 'verifying';

export interface StageProgress {
  readonly phase: StagePhase;
  /** Bytes done in this phase (read to check, uploaded, or verified). */
  readonly bytes: number;
  readonly totalBytes: number;
  /** Files done in this phase. */
  readonly files: number;
  readonly totalFiles: number;
}

/** One file to stage: where from, where to. */
export interface StageEntry {
  readonly source: string;
  readonly target: string;
  readonly size: number;
  /**
   * Uploaded after the others: a checkpoint's `.index` (which makes its data files readable) and a
   * build's manifest, so that an interrupted staging never leaves one that looks complete.
   */
  readonly last: boolean;
}

export interface StagedFile extends StageEntry {
  /** The CRC-32C of the local file, which the object now has. */
  readonly crc32c: number;
  /** `skipped`: the object was there with this size and CRC-32C already. */
  readonly action: 'uploaded' | 'skipped';
}

/** What the trainer's flags take, in the destination: its `--data_dir`, `--init_checkpoint` and the tokenizer folder. */
export interface StagedPaths {
  readonly dataDir?: string;
  readonly initCheckpoint?: string;
  readonly tokenizerDir?: string;
}

export interface StageResult {
  readonly files: readonly StagedFile[];
  readonly paths: StagedPaths;
  readonly uploadedBytes: number;
  /** Seconds spent uploading (the rate is `uploadedBytes / uploadSeconds`). */
  readonly uploadSeconds: number;
  /** One line per object that does not match its local file after the upload; empty when all is well. */
  readonly mismatches: readonly string[];
}

/** Where each source lands under `destination` (`STAGE_LAYOUT`). */
export function stagedPaths(destination: string, sources: Pick<StageOptions, 'dataDir' | 'initCheckpoint' | 'tokenizerDir'>): StagedPaths {
  return {
    ...(sources.dataDir === undefined ? {} : { dataDir: joinPath(destination, STAGE_LAYOUT.data) }),
    ...(sources.initCheckpoint === undefined ? {} : { initCheckpoint: joinPath(destination, STAGE_LAYOUT.initCheckpoint, baseName(sources.initCheckpoint)) }),
    ...(sources.tokenizerDir === undefined ? {} : { tokenizerDir: joinPath(destination, STAGE_LAYOUT.tokenizer) }),
  };
}

const isHidden = (relative: string): boolean => relative.split('/').some((part) => part.startsWith('.'));

/** The files of a folder (at any depth, hidden ones left out) as entries under `targetDir`. */
async function folderEntries(dir: string, targetDir: string, what: string, isLast: (name: string) => boolean): Promise<StageEntry[]> {
  const fs = fileSystemFor(dir);
  const info = await fs.stat(dir);
  if (!info?.isDirectory) throw new Error(`${dir}: no such folder (the ${what} to stage)`);
  const names = (await fs.listRecursive(dir)).filter((name) => !isHidden(name)).sort();
  return pMap(
    names,
    async (name) => {
      const source = joinPath(dir, ...name.split('/'));
      const size = (await fs.stat(source))?.size ?? 0;
      return { source, target: joinPath(targetDir, ...name.split('/')), size, last: isLast(name) };
    },
    { concurrency: METADATA_REQUESTS_IN_FLIGHT },
  );
}

/** The checkpoint's own files: `PREFIX.index` and the `PREFIX.data-NNNNN-of-NNNNN` files its header counts. */
async function checkpointEntries(prefix: string, targetDir: string): Promise<StageEntry[]> {
  const reader = await CheckpointReader.open(prefix);
  const shards = reader.header.numShards;
  // How long each data file must be to hold the tensors the index places in it.
  const needed = new Array<number>(shards).fill(0);
  for (const v of reader.variables) if (v.shardId >= 0 && v.shardId < shards) needed[v.shardId] = Math.max(needed[v.shardId], v.offset + v.byteLength);
  await reader.close();
  const sources = [...Array.from({ length: shards }, (_, shard) => dataFileName(prefix, shard, shards)), `${prefix}.index`];
  const fs = fileSystemFor(prefix);
  return Promise.all(
    sources.map(async (source, shard) => {
      const info = await fs.stat(source);
      if (!info) throw new Error(`${source}: no such file (the checkpoint's index names ${shards} data file(s))`);
      if (shard < shards && info.size < needed[shard])
        throw new Error(`${source}: ${info.size} bytes, but the checkpoint's index places tensors up to byte ${needed[shard]}; the checkpoint is incomplete`);
      return { source, target: joinPath(targetDir, baseName(source)), size: info.size, last: source.endsWith('.index') };
    }),
  );
}

/** Every file `stage` uploads, with its target; errors name a missing source. */
export async function stageEntries(options: Omit<StageOptions, 'signal' | 'onProgress' | 'concurrency'>): Promise<StageEntry[]> {
  const { destination } = options;
  const paths = stagedPaths(destination, options);
  if (!paths.dataDir && !paths.initCheckpoint && !paths.tokenizerDir)
    throw new Error('nothing to stage: give a data folder, an init checkpoint or a tokenizer folder');
  const entries: StageEntry[] = [];
  if (options.dataDir !== undefined) {
    const data = await folderEntries(options.dataDir, paths.dataDir!, 'build folder', (name) => name === MANIFEST_FILE);
    if (!data.some((e) => baseName(e.source).startsWith(TRAINING_FILE_PREFIX)))
      throw new Error(`${options.dataDir}: no ${TRAINING_FILE_PREFIX}* files (the trainer's input; build them with kbb build-tfrecord)`);
    for (const entry of data) entries.push(entry);
  }
  if (options.initCheckpoint !== undefined)
    for (const entry of await checkpointEntries(options.initCheckpoint, joinPath(destination, STAGE_LAYOUT.initCheckpoint))) entries.push(entry);
  if (options.tokenizerDir !== undefined) {
    for (const entry of await folderEntries(options.tokenizerDir, paths.tokenizerDir!, 'tokenizer folder', () => false)) entries.push(entry);
    // A tokenizer the trainer could not load is refused before anything is uploaded.
    await loadTokenizer(options.tokenizerDir);
  }
  return entries;
}

/** Counts one phase's bytes and files and reports them. */
function phaseProgress(phase: StagePhase, entries: readonly StageEntry[], onProgress: StageOptions['onProgress']) {
  const totalBytes = entries.reduce((sum, e) => sum + e.size, 0);
  let bytes = 0;
  let files = 0;
  const report = (): void => onProgress?.({ phase, bytes, totalBytes, files, totalFiles: entries.length });
  return {
    bytes: (n: number): void => {
      bytes += n;
      report();
    },
    file: (): void => {
      files++;
      report();
    },
    start: report,
  };
}

/**
 * Uploads one file through the target's atomic write stream (a finalized, CRC-checked upload on
 * Cloud Storage) and returns the CRC-32C of the bytes sent, computed as they go.
 */
async function upload(entry: StageEntry, onBytes: (n: number) => void, signal: AbortSignal | undefined): Promise<number> {
  let crc = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      crc = crc32c(chunk, crc);
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  const target = fileSystemFor(entry.target).createWriteStream(entry.target);
  try {
    await pipeline(fileSystemFor(entry.source).createReadStream(entry.source, { highWaterMark: 1 << 20 }), tap, target.stream, {
      end: false,
      ...(signal ? { signal } : {}),
    });
    await target.commit();
  } catch (error) {
    await target.abort();
    throw error;
  }
  return crc >>> 0;
}

/** The CRC-32C of an object as its store keeps it, or as read when it keeps none (a local copy). */
const storedCrc32c = async (path: string, kept: number | undefined, signal?: AbortSignal): Promise<number> => kept ?? crc32cOfFile(path, undefined, signal);

/**
 * Compares every object with its local file: size and CRC-32C. One line per mismatch, naming the
 * object and both values; empty when every object is right.
 */
export async function verifyStaged(
  files: readonly (StageEntry & { readonly crc32c: number })[],
  options: Pick<StageOptions, 'concurrency' | 'signal' | 'onProgress'> = {},
): Promise<string[]> {
  const progress = phaseProgress('verifying', files, options.onProgress);
  progress.start();
  const mismatches = new Map<number, string>();
  await pMap(
    files,
    async (file, index) => {
      const info = await fileSystemFor(file.target).stat(file.target);
      if (!info) mismatches.set(index, `${file.target}: missing (local ${file.source} has ${file.size} bytes)`);
      else if (info.size !== file.size) mismatches.set(index, `${file.target}: ${info.size} bytes, local ${file.source} has ${file.size}`);
      else {
        const crc = await storedCrc32c(file.target, info.crc32c, options.signal);
        if (crc !== file.crc32c) mismatches.set(index, `${file.target}: CRC-32C ${hex(crc)}, local ${file.source} has ${hex(file.crc32c)}`);
      }
      progress.bytes(file.size);
      progress.file();
    },
    { concurrency: options.concurrency ?? STAGE_DEFAULTS.concurrency, signal: options.signal },
  ).then(() => undefined);
  return [...mismatches.entries()].sort((a, b) => a[0] - b[0]).map(([, line]) => line);
}

const hex = (crc: number): string => (crc >>> 0).toString(16).padStart(8, '0');

/**
 * `kbb stage`: uploads a build folder, an init checkpoint and a tokenizer folder under
 * `destination` (`STAGE_LAYOUT`), several files at once. An object already there with the local
 * file's size and CRC-32C is skipped, so running it again finishes an interrupted staging; every
 * object is verified at the end (`mismatches`).
 */
export async function stage(options: StageOptions): Promise<StageResult> {
  const { signal, onProgress } = options;
  const concurrency = options.concurrency ?? STAGE_DEFAULTS.concurrency;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, got ${concurrency}`);
  const entries = await stageEntries(options);
  signal?.throwIfAborted();

  // Which objects are there already with the same bytes: the size first (a stat), then the CRC-32C,
  // which costs a read of the local file only where the sizes agree.
  const present = await pMap(entries, (e) => fileSystemFor(e.target).stat(e.target), { concurrency: METADATA_REQUESTS_IN_FLIGHT, signal });
  const toCheck = entries.filter((e, i) => present[i]?.size === e.size && !present[i]?.isDirectory);
  const checking = phaseProgress('checking', toCheck, onProgress);
  const localCrc = new Map<StageEntry, number>();
  const skipped = new Set<StageEntry>();
  if (toCheck.length > 0) {
    checking.start();
    await pMap(
      toCheck,
      async (entry) => {
        const crc = await crc32cOfFile(entry.source, checking.bytes, signal);
        localCrc.set(entry, crc);
        const info = present[entries.indexOf(entry)]!;
        if ((await storedCrc32c(entry.target, info.crc32c, signal)) === crc) skipped.add(entry);
        checking.file();
      },
      { concurrency: concurrency, signal },
    ).then(() => undefined);
  }

  const toUpload = entries.filter((e) => !skipped.has(e));
  // An index or manifest of an earlier staging that is about to be replaced goes first: until the new
  // one is up, the objects beside it are a mix of old and new, and nothing must claim they are whole.
  await pMap(
    toUpload.filter((e) => e.last && present[entries.indexOf(e)] !== undefined),
    (e) => fileSystemFor(e.target).remove(e.target),
    { concurrency: METADATA_REQUESTS_IN_FLIGHT, signal },
  );
  const uploading = phaseProgress('uploading', toUpload, onProgress);
  uploading.start();
  const started = performance.now();
  const send = (batch: readonly StageEntry[]): Promise<void> =>
    pMap(
      batch,
      async (entry) => {
        localCrc.set(entry, await upload(entry, uploading.bytes, signal));
        uploading.file();
      },
      { concurrency: concurrency, signal },
    ).then(() => undefined);
  await send(toUpload.filter((e) => !e.last));
  await send(toUpload.filter((e) => e.last));
  const uploadSeconds = (performance.now() - started) / 1000;

  const files: StagedFile[] = entries.map((e) => ({ ...e, crc32c: localCrc.get(e)!, action: skipped.has(e) ? 'skipped' : 'uploaded' }));
  const mismatches = await verifyStaged(files, { concurrency, signal, onProgress });
  return {
    files,
    paths: stagedPaths(options.destination, options),
    uploadedBytes: toUpload.reduce((sum, e) => sum + e.size, 0),
    uploadSeconds,
    mismatches,
  };
}
