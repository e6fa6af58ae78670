/**
 * `kbb stage` throughput: a build folder, an init checkpoint and a tokenizer uploaded to a bucket
 * on the Cloud Storage emulator, next to `cp -r` of the same files on the local disk.
 *
 *   npm run bench:stage [-- --data_mb 192 --checkpoint_mb 128 --repeats 2]
 *
 * The inputs: `data_mb` of TFRecord shards (4 MiB each, as a build with long examples writes them,
 * plus a manifest), a checkpoint of `checkpoint_mb` written by kbb's own writer, and the sample
 * tokenizer. The emulator runs in a process of its own (`npm run gcs:emulator`), so its work does
 * not share the uploader's thread. Measured in the same run, best of `repeats`:
 *   - cp -r + sync of the same files into a local folder (the floor: read and write, no checksums),
 *   - kbb stage into a local folder (its own work: listing, CRC-32C, atomic writes, verification),
 *   - kbb stage into the emulator with 1 upload at a time and with the default (8),
 *   - kbb stage again into a bucket that has everything (what a re-run after an interruption costs).
 * MB/s = staged MB / wall seconds of the whole command (check, upload, verify). The emulator keeps
 * every upload in memory and on disk in one Node process, so its figure is a floor for what real
 * Cloud Storage gives a machine with a fast link, not a forecast. The last line is one JSON object.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCheckpoint } from '../lib/checkpoint/index.js';
import { STAGE_DEFAULTS, stage } from '../lib/cloud/index.js';
import { sampleTokenizerDir } from '../lib/package/index.js';
import { projectRoot } from './bench-inputs.js';

const { values } = parseArgs({
  options: { data_mb: { type: 'string', default: '192' }, checkpoint_mb: { type: 'string', default: '128' }, repeats: { type: 'string', default: '2' } },
});
const dataMb = Number(values.data_mb);
const checkpointMb = Number(values.checkpoint_mb);
const repeats = Number(values.repeats);
const MiB = 1 << 20;

/** Bytes that do not compress or repeat (xorshift), so no layer can shortcut them. */
function noise(bytes: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let s = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= bytes; i += 4) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out.writeUInt32LE(s >>> 0, i);
  }
  return out;
}

async function startEmulator(): Promise<{ host: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts', 'gcs-emulator.ts'), '--port', '0'], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const host = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening`)));
  });
  return { host, child };
}

/** CPU seconds a process has used so far (user + system), from /proc: who is busy during an upload. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function best(label: string, run: () => Promise<void>): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, (performance.now() - started) / 1000);
  }
  console.error(`${label.padEnd(40)} ${fastest.toFixed(2)} s`);
  return fastest;
}

const scratch = mkdtempSync(join(tmpdir(), 'kbb-bench-stage-'));
const emulator = await startEmulator();
process.env.STORAGE_EMULATOR_HOST = emulator.host;
try {
  const dataDir = join(scratch, 'pretrain_tfrecords');
  mkdirSync(dataDir);
  const shards = Math.max(1, Math.round(dataMb / 4));
  for (let i = 0; i < shards; i++) writeFileSync(join(dataDir, `pretrain_data.tfrecord-${String(i).padStart(5, '0')}-of-${shards}`), noise(4 * MiB, i + 1));
  writeFileSync(join(dataDir, 'build_manifest.json'), '{}\n');
  const checkpoint = join(scratch, 'bert', 'bert_model.ckpt');
  const elements = (checkpointMb * MiB) / 4 / 2;
  await writeCheckpoint(
    checkpoint,
    [0, 1].map((i) => ({ name: `bert/layer_${i}/kernel`, dtype: 'float32' as const, shape: [elements], data: noise(elements * 4, 100 + i) })),
  );
  const sources = { dataDir, initCheckpoint: checkpoint, tokenizerDir: sampleTokenizerDir };
  const dryRun = await stage({ destination: join(scratch, 'probe'), ...sources });
  const bytes = dryRun.files.reduce((sum, f) => sum + f.size, 0);
  const files = dryRun.files.length;
  rmSync(join(scratch, 'probe'), { recursive: true });
  const mb = bytes / 1e6;
  console.error(`staging ${files} files, ${mb.toFixed(1)} MB (${shards} shards of 4 MiB, a ${checkpointMb} MiB checkpoint, the sample tokenizer)`);

  let n = 0;
  const cpSeconds = await best('cp -r + sync (local)', async () => {
    const target = join(scratch, `cp-${n++}`);
    mkdirSync(join(target, 'init_checkpoint'), { recursive: true });
    const cp = (args: string[]): void => {
      const result = spawnSync('cp', args, { stdio: 'inherit' });
      if (result.status !== 0) throw new Error(`cp ${args.join(' ')} failed`);
    };
    cp(['-r', dataDir, join(target, 'pretrain_tfrecords')]);
    cp([`${checkpoint}.index`, `${checkpoint}.data-00000-of-00001`, join(target, 'init_checkpoint')]);
    cp(['-r', sampleTokenizerDir, join(target, 'tokenizer')]);
    spawnSync('sync');
    rmSync(target, { recursive: true });
  });
  const localSeconds = await best('kbb stage → local folder', async () => {
    const target = join(scratch, `stage-${n++}`);
    await stage({ destination: target, ...sources });
    rmSync(target, { recursive: true });
  });
  const oneSeconds = await best('kbb stage → emulator, 1 at a time', async () => {
    await stage({ destination: `gs://kbb-bench/one-${n++}`, ...sources, concurrency: 1 });
  });
  let last = '';
  let cpu = { uploader: 0, emulator: 0 };
  const defaultSeconds = await best(`kbb stage → emulator, ${STAGE_DEFAULTS.concurrency} at a time`, async () => {
    last = `gs://kbb-bench/default-${n++}`;
    const before = { uploader: cpuSeconds(process.pid), emulator: cpuSeconds(emulator.child.pid!) };
    await stage({ destination: last, ...sources });
    cpu = { uploader: cpuSeconds(process.pid) - before.uploader, emulator: cpuSeconds(emulator.child.pid!) - before.emulator };
  });
  console.error(`  CPU during the last one: kbb ${cpu.uploader.toFixed(2)} s, the emulator ${cpu.emulator.toFixed(2)} s`);
  const rerunSeconds = await best('kbb stage again (all there: skipped)', async () => {
    const result = await stage({ destination: last, ...sources });
    if (result.files.some((f) => f.action !== 'skipped')) throw new Error('the re-run uploaded something');
  });

  const rate = (seconds: number): number => Number((mb / seconds).toFixed(1));
  console.error(
    `MB/s: cp ${rate(cpSeconds)}, stage → local ${rate(localSeconds)}, stage → emulator ${rate(oneSeconds)} (1 at a time) / ${rate(defaultSeconds)} (${STAGE_DEFAULTS.concurrency}); re-run ${rerunSeconds.toFixed(2)} s`,
  );
  console.log(
    JSON.stringify({
      files,
      mb: Number(mb.toFixed(1)),
      cp_mb_per_s: rate(cpSeconds),
      stage_local_mb_per_s: rate(localSeconds),
      stage_emulator_1_mb_per_s: rate(oneSeconds),
      [`stage_emulator_${STAGE_DEFAULTS.concurrency}_mb_per_s`]: rate(defaultSeconds),
      rerun_seconds: Number(rerunSeconds.toFixed(2)),
      cpu_seconds: { kbb: Number(cpu.uploader.toFixed(2)), emulator: Number(cpu.emulator.toFixed(2)) },
    }),
  );
} finally {
  emulator.child.kill('SIGTERM');
  rmSync(scratch, { recursive: true, force: true });
}
