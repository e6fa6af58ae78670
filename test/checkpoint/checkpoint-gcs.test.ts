import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointReader,
  dataFileName,
  latestCheckpoint,
  refuseExistingCheckpoint,
  type TensorToWrite,
  writeCheckpoint,
  writeCheckpointState,
} from '../../lib/checkpoint/index.js';
import { copyFile, type FileSystem, fileSystemFor, joinPath, parentPath } from '../../lib/fs/index.js';
import { fixture, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

const emulator = setUpGcsEmulator();

const dir = mkdtempSync(join(tmpdir(), 'kbb-ckpt-gcs-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

/** Deterministic bytes, different for every seed. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Every dtype kbb writes, over three shards of which the last gets no tensor (an empty data file). */
const mixedTensors = (): TensorToWrite[] => [
  { name: 'z/kernel', dtype: 'float32', shape: [64, 33], data: bytes(64 * 33 * 4, 1), shard: 1 },
  { name: 'a/step', dtype: 'int64', shape: [], data: bytes(8, 2) },
  { name: 'm/half', dtype: 'float16', shape: [7], data: bytes(14, 3), shard: 1 },
  { name: 'b/flags', dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) },
  { name: 's/strings', dtype: 'string', shape: [3], data: [Buffer.from('안녕'), Buffer.from(''), bytes(300, 4)] },
  { name: 'c/bias', dtype: 'float32', shape: [5000], data: async () => bytes(20_000, 5) },
];

const objectsOf = (prefix: string, numShards: number): string[] => [
  `${prefix}.index`,
  ...Array.from({ length: numShards }, (_, shard) => dataFileName(prefix, shard, numShards)),
];

/** A FileSystem that counts the bytes and calls each path costs, around a real one. */
function counting(inner: FileSystem): { readonly fileSystem: FileSystem; readonly bytes: Map<string, number>; readonly calls: string[] } {
  const counted = new Map<string, number>();
  const calls: string[] = [];
  const add = (path: string, n: number): void => {
    counted.set(path, (counted.get(path) ?? 0) + n);
  };
  const fileSystem: FileSystem = {
    ...inner,
    async readFile(path) {
      calls.push(`readFile ${path}`);
      const out = await inner.readFile(path);
      add(path, out.length);
      return out;
    },
    async readRange(path, start, length) {
      calls.push(`readRange ${path} ${start} ${length}`);
      const out = await inner.readRange(path, start, length);
      add(path, out.length);
      return out;
    },
    createReadStream(path, options) {
      calls.push(`createReadStream ${path}`);
      const stream = inner.createReadStream(path, options);
      stream.on('data', (chunk: Buffer) => add(path, chunk.length));
      return stream;
    },
  };
  return { fileSystem, bytes: counted, calls };
}

/**
 * An HTTP proxy in front of the emulator that counts the bytes of every object download (`alt=media`)
 * that passes through it: what a reader really pulls over the wire.
 */
async function countingProxy(target: string): Promise<{ readonly host: string; downloaded(): number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let downloaded = 0;
  const server: Server = createServer((req, res) => {
    const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (/[?&]alt=media/.test(req.url ?? '')) answer.on('data', (chunk: Buffer) => (downloaded += chunk.length));
      answer.pipe(res);
    });
    forward.on('error', (error) => res.destroy(error));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    downloaded: () => downloaded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!hasGcsEmulator)('TensorFlow checkpoints in a gs:// bucket (Storage emulator)', () => {
  it('a checkpoint written to gs:// is byte for byte the one written locally: index and every data shard, an empty shard too, nothing else', async () => {
    const local = join(dir, 'same', 'model.ckpt-5');
    const remote = `gs://${uniqueBucket('ckpt-same')}/run/model.ckpt-5`;
    await writeCheckpoint(local, mixedTensors(), { numShards: 3 });
    await writeCheckpoint(remote, mixedTensors(), { numShards: 3 });
    const localObjects = objectsOf(local, 3);
    const remoteObjects = objectsOf(remote, 3);
    for (let i = 0; i < localObjects.length; i++) {
      const a = readFileSync(localObjects[i]);
      const b = await fileSystemFor(remoteObjects[i]).readFile(remoteObjects[i]);
      expect(b.equals(a), remoteObjects[i]).toBe(true);
    }
    expect(readFileSync(dataFileName(local, 2, 3)).length).toBe(0);
    expect((await fileSystemFor(remote).listRecursive(parentPath(remote))).sort()).toEqual(remoteObjects.map((o) => o.slice(o.lastIndexOf('/') + 1)).sort());

    const [fromDisk, fromBucket] = await Promise.all([CheckpointReader.open(local), CheckpointReader.open(remote)]);
    expect(fromBucket.variables).toEqual(fromDisk.variables);
    for (const v of fromDisk.variables) {
      expect(Buffer.from(await fromBucket.readBytes(v.name)).equals(Buffer.from(await fromDisk.readBytes(v.name))), v.name).toBe(true);
      expect((await fromBucket.read(v.name)).values, v.name).toEqual((await fromDisk.read(v.name)).values);
    }
    await Promise.all([fromDisk.close(), fromBucket.close()]);
  });

  it.skipIf(!hasFixtures)(
    `a TensorFlow-written two-shard checkpoint read from gs:// gives every tensor the local one does; rewritten to gs:// it is TensorFlow's bytes${hasFixtures ? '' : ` (${SKIP_NO_FIXTURES})`}`,
    async () => {
      const source = fixture('tf-checkpoints', 't2t-transformer-2shards', 'model.ckpt-1');
      const bucket = `gs://${uniqueBucket('ckpt-t2t')}`;
      const uploaded = `${bucket}/t2t/model.ckpt-1`;
      for (const suffix of ['.index', '.data-00000-of-00002', '.data-00001-of-00002']) await copyFile(source + suffix, uploaded + suffix);
      const [local, remote] = await Promise.all([CheckpointReader.open(source), CheckpointReader.open(uploaded)]);
      expect(remote.variables).toEqual(local.variables);
      for (const v of local.variables) {
        expect((await remote.read(v.name)).values, v.name).toEqual((await local.read(v.name)).values);
      }
      const rewritten = `${bucket}/again/model.ckpt-1`;
      const inDataOrder = [...remote.variables].sort((a, b) => a.shardId - b.shardId || a.offset - b.offset);
      await writeCheckpoint(
        rewritten,
        inDataOrder.map((v) => ({
          name: v.name,
          dtype: v.dtype as TensorToWrite['dtype'],
          shape: v.shape,
          shard: v.shardId,
          data: () => remote.readBytes(v.name),
        })),
        { numShards: 2 },
      );
      for (const suffix of ['.index', '.data-00000-of-00002', '.data-00001-of-00002']) {
        expect((await fileSystemFor(rewritten).readFile(rewritten + suffix)).equals(readFileSync(source + suffix)), suffix).toBe(true);
      }
      await Promise.all([local.close(), remote.close()]);
    },
  );

  it('reads one small variable of a 24 MB checkpoint with one ranged read of just its bytes, not the data file', async () => {
    const prefix = `gs://${uniqueBucket('ckpt-range')}/big/model.ckpt-9`;
    const big = bytes(24 << 20, 11);
    const small = bytes(4 * 10, 12);
    await writeCheckpoint(prefix, [
      { name: 'a/huge', dtype: 'float32', shape: [6 << 20], data: big },
      { name: 'b/small', dtype: 'float32', shape: [10], data: small },
    ]);
    const dataFile = dataFileName(prefix, 0, 1);
    const dataSize = (await fileSystemFor(dataFile).stat(dataFile))!.size;
    expect(dataSize).toBe(big.length + small.length);

    const probe = counting(fileSystemFor(prefix));
    const reader = await CheckpointReader.open(prefix, { fileSystem: probe.fileSystem });
    const v = reader.variable('b/small');
    expect(Buffer.from(await reader.readBytes('b/small')).equals(Buffer.from(small))).toBe(true);
    expect(probe.calls).toEqual([`readFile ${prefix}.index`, `readRange ${dataFile} ${v.offset} ${v.byteLength}`]);
    expect(probe.bytes.get(dataFile)).toBe(40);
    await reader.close();

    // Over the wire too: the bytes the emulator sends for that read are the variable's, not 24 MB.
    const proxy = await countingProxy(emulator.host());
    process.env.STORAGE_EMULATOR_HOST = proxy.host;
    try {
      const overProxy = await CheckpointReader.open(prefix);
      const afterIndex = proxy.downloaded();
      expect(afterIndex).toBe((await fileSystemFor(`${prefix}.index`).stat(`${prefix}.index`))!.size);
      await overProxy.read('b/small');
      expect(proxy.downloaded() - afterIndex).toBe(40);
      await overProxy.readBytes('a/huge');
      expect(proxy.downloaded() - afterIndex).toBe(dataSize);
      await overProxy.close();
    } finally {
      process.env.STORAGE_EMULATOR_HOST = emulator.host();
      await proxy.close();
    }
  });

  it('a ranged read is still checked: a flipped byte, a short shard and a missing shard are named errors', async () => {
    const prefix = `gs://${uniqueBucket('ckpt-bad')}/bad/model.ckpt-1`;
    await writeCheckpoint(
      prefix,
      mixedTensors().map((t) => ({ ...t, shard: 0 })),
    );
    const fs = fileSystemFor(prefix);
    const dataFile = dataFileName(prefix, 0, 1);
    const data = await fs.readFile(dataFile);
    const reader = await CheckpointReader.open(prefix);
    const kernel = reader.variable('z/kernel');
    const flipped = Buffer.from(data);
    flipped[kernel.offset + 3] ^= 0x40;
    await fs.writeFile(dataFile, flipped);
    await expect(reader.read('z/kernel')).rejects.toThrow(`${dataFile}: variable z/kernel: checksum mismatch`);
    await expect(reader.read('c/bias')).resolves.toMatchObject({ dtype: 'float32' });

    const last = reader.variables.reduce((a, b) => (b.offset > a.offset ? b : a));
    await fs.writeFile(dataFile, data.subarray(0, last.offset + 1));
    await expect(reader.read(last.name)).rejects.toThrow(`${dataFile}: data shard too short for variable ${last.name}`);

    await fs.remove(dataFile);
    await expect(reader.read('a/step')).rejects.toThrow(`${dataFile}: missing data shard (needed for variable a/step)`);
    await reader.close();
    await expect(CheckpointReader.open(`${prefix}-nope`)).rejects.toThrow(`${prefix}-nope.index: cannot read the checkpoint index`);
  });

  it('an interrupted write leaves no object, and an interrupted rewrite leaves the old checkpoint whole', async () => {
    const folder = `gs://${uniqueBucket('ckpt-cut')}/cut`;
    const prefix = `${folder}/model.ckpt-3`;
    const fs = fileSystemFor(folder);
    const failing = (): TensorToWrite[] => [
      { name: 'a', dtype: 'float32', shape: [2 << 20], data: bytes(8 << 20, 21) },
      { name: 'b', dtype: 'float32', shape: [2 << 20], data: bytes(8 << 20, 22), shard: 1 },
      {
        name: 'c',
        dtype: 'float32',
        shape: [4],
        data: async () => {
          throw new Error('the trainer was stopped');
        },
      },
    ];
    await expect(writeCheckpoint(prefix, failing(), { numShards: 2 })).rejects.toThrow('the trainer was stopped');
    expect(await fs.listRecursive(folder)).toEqual([]);

    await writeCheckpoint(prefix, mixedTensors(), { numShards: 2 });
    const before = await Promise.all(objectsOf(prefix, 2).map((o) => fs.readFile(o)));
    await expect(writeCheckpoint(prefix, failing(), { numShards: 2 })).rejects.toThrow('the trainer was stopped');
    const after = await Promise.all(objectsOf(prefix, 2).map((o) => fs.readFile(o)));
    for (const [i, bytes] of after.entries()) expect(bytes.equals(before[i]), objectsOf(prefix, 2)[i]).toBe(true);
    expect((await fs.listRecursive(folder)).length).toBe(3);
  });

  it('the data objects, then the index, then the checkpoint file: a lister never sees one before what it names', async () => {
    const folder = `gs://${uniqueBucket('ckpt-order')}/run`;
    const fs = fileSystemFor(folder);
    const name = 'model.ckpt-100';
    const expected = [`${name}.data-00000-of-00002`, `${name}.data-00001-of-00002`, `${name}.index`, 'checkpoint'];
    const seen: string[][] = [];
    let writing = true;
    const watcher = (async () => {
      while (writing) seen.push((await fs.list(folder)).map((e) => e.name));
    })();
    await writeCheckpoint(
      joinPath(folder, name),
      [
        { name: 'w0', dtype: 'float32', shape: [3 << 20], data: bytes(12 << 20, 31) },
        { name: 'w1', dtype: 'float32', shape: [3 << 20], data: bytes(12 << 20, 32), shard: 1 },
      ],
      { numShards: 2 },
    );
    await writeCheckpointState(folder, { modelCheckpointPath: name, allModelCheckpointPaths: [name] });
    writing = false;
    await watcher;
    seen.push((await fs.list(folder)).map((e) => e.name));
    expect(seen.at(-1)!.sort()).toEqual([...expected].sort());
    // The lister ran all along: it saw the folder empty while the data went up.
    expect(seen[0]).toEqual([]);
    for (const listing of seen) {
      const has = new Set(listing);
      if (has.has('checkpoint')) expect(has.has(`${name}.index`), listing.join(' ')).toBe(true);
      if (has.has(`${name}.index`)) expect(has.has(expected[0]) && has.has(expected[1]), listing.join(' ')).toBe(true);
    }
    const created = await Promise.all(expected.map(async (object) => (await fs.stat(joinPath(folder, object)))!.modifiedMs));
    expect(created).toEqual([...created].sort((a, b) => a - b));
    expect(await latestCheckpoint(folder)).toBe(`${folder}/${name}`);
  });

  it('the checkpoint state file on gs://: a relative path joins the folder, an absolute gs:// path (what TensorFlow writes there) is kept', async () => {
    const folder = `gs://${uniqueBucket('ckpt-state')}/out`;
    await writeCheckpointState(folder, { modelCheckpointPath: 'model.ckpt-7', allModelCheckpointPaths: ['model.ckpt-7'] });
    expect(await latestCheckpoint(folder)).toBe(`${folder}/model.ckpt-7`);
    expect((await fileSystemFor(folder).readFile(`${folder}/checkpoint`)).toString()).toBe(
      'model_checkpoint_path: "model.ckpt-7"\nall_model_checkpoint_paths: "model.ckpt-7"\n',
    );
    await writeCheckpointState(folder, { modelCheckpointPath: 'gs://elsewhere/run/model.ckpt-9', allModelCheckpointPaths: [] });
    expect(await latestCheckpoint(folder)).toBe('gs://elsewhere/run/model.ckpt-9');
    await expect(latestCheckpoint(`${folder}/none`)).rejects.toThrow(`${folder}/none/checkpoint: cannot read the checkpoint state file`);
  });

  it('refuses to replace a checkpoint in a bucket, as on disk', async () => {
    const prefix = `gs://${uniqueBucket('ckpt-refuse')}/x/model.ckpt-0`;
    await expect(refuseExistingCheckpoint(prefix, false)).resolves.toBeUndefined();
    await writeCheckpoint(prefix, [{ name: 'w', dtype: 'float32', shape: [1], data: bytes(4, 1) }]);
    await expect(refuseExistingCheckpoint(prefix, false)).rejects.toThrow(`${prefix}.index exists; pass --overwrite to replace it`);
    await expect(refuseExistingCheckpoint(prefix, true)).resolves.toBeUndefined();
    const local = join(dir, 'refuse', 'model.ckpt-0');
    await writeCheckpoint(local, [{ name: 'w', dtype: 'float32', shape: [1], data: bytes(4, 1) }]);
    await expect(refuseExistingCheckpoint(local, false)).rejects.toThrow(`${local}.index exists`);
    expect(readdirSync(join(dir, 'refuse')).sort()).toEqual(['model.ckpt-0.data-00000-of-00001', 'model.ckpt-0.index']);
  });
});
