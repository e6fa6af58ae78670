/**
 * BigBird training-step throughput in TensorFlow.js: forward + backward + AdamW step of a
 * BigBird-base-shaped model (hidden 768, 12 heads, intermediate 3072, vocab 32500, block 64,
 * 3 random blocks) with 2 layers, batch 1, at 1024/2048/4096 tokens block-sparse and 1024/2048 full.
 *
 *   npm run bench:model [-- --steps 3 --layers 2 --backend native|wasm|cpu|tensorflow --backends native,wasm]
 *
 * By default the backend kbb selects runs, then wasm, each configuration in the same run; then Hugging
 * Face's step (bench/model_peer.py) where Python has torch and transformers, else issue 19's figures
 * for it. A table of tokens/s, the ratios to Hugging Face and the peak RSS ends the output.
 *
 * Each configuration runs two untimed warm-up steps (kernels compile, buffers grow; the first runs
 * under `tf.profile`, which gives the step's peak of live tensor bytes and every kernel's output shape)
 * and then `steps` timed steps; tokens/s = tokens per step / median step seconds (a neighbour on
 * the machine can make one step twice as slow; the peer is measured the same way). The last line is
 * one JSON object. Linear attention gives a 4096/1024 step-time ratio of about 4; full attention about 16.
 *
 * Each configuration runs in a child process of its own (`--child --only <key>`): a wasm heap grows but never
 * shrinks, so one process would carry a 4096-token step's heap (and its fragmentation) into the next
 * configuration, and a configuration that does not fit would take the others down with it. One that
 * fails is reported as null, with the reason on stderr.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { peakDataBytes } from '../lib/autodiff/memory-meter.js';
import { withNativeMallocTunables } from '../lib/backend/malloc-tunables.js';
import { describeBackendSelection, selectBackend } from '../lib/backend/select-backend.js';
import { hfConfigFromJson } from '../lib/model/config-files.js';
import { BigBirdModel, BigBirdWeights, bigBirdModelVariables, type NamedArray } from '../lib/model/index.js';
import { elementCount } from '../lib/tensor/index.js';
import { AdamW } from '../lib/train/adamw.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3' },
    layers: { type: 'string', default: '2' },
    backend: { type: 'string' },
    backends: { type: 'string' },
    only: { type: 'string' },
    // Internal: this process is one configuration's child (see the file comment).
    child: { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);

const VOCAB = 32500;
const MASK_ID = 4;
const MAX_PREDICTIONS = 640;

function configFor(attention: 'block_sparse' | 'original_full') {
  return hfConfigFromJson({
    model_type: 'big_bird',
    vocab_size: VOCAB,
    hidden_size: 768,
    num_hidden_layers: Number(values.layers),
    num_attention_heads: 12,
    intermediate_size: 3072,
    max_position_embeddings: 4096,
    block_size: 64,
    num_random_blocks: 3,
    attention_type: attention,
    hidden_act: 'gelu_new',
  });
}

/** A small fast generator: the benchmark needs plausible values, not a particular stream. */
function filler(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function randomWeights(attention: 'block_sparse' | 'original_full'): BigBirdWeights {
  const config = configFor(attention);
  const next = filler(42);
  const arrays = new Map<string, NamedArray>();
  for (const { name, shape } of bigBirdModelVariables(config, 'masked-lm')) {
    const values = new Float32Array(elementCount(shape));
    const isGamma = name.endsWith('/gamma');
    // Initializer range 0.02 (uniform of that spread is enough for timing); LayerNorm gains 1.
    for (let i = 0; i < values.length; i++) values[i] = isGamma ? 1 : (next() - 0.5) * 0.04;
    arrays.set(name, { shape, values });
  }
  return BigBirdWeights.fromArrays(config, 'masked-lm', arrays, 'random');
}

/** One sequence of `length` tokens with 15% (at most 640) positions masked for the MLM loss. */
function batchOf(length: number) {
  const next = filler(length);
  const inputIds = new Int32Array(length);
  const labels = new Int32Array(length).fill(-100);
  for (let i = 0; i < length; i++) inputIds[i] = 5 + Math.floor(next() * (VOCAB - 5));
  const predictions = Math.min(MAX_PREDICTIONS, Math.round(length * 0.15));
  for (let k = 0; k < predictions; k++) {
    const at = 1 + Math.floor((k * (length - 2)) / predictions);
    labels[at] = inputIds[at];
    inputIds[at] = MASK_ID;
  }
  return { inputIds, labels, shape: [1, length] as const };
}

interface Measured {
  readonly seconds: number;
  readonly tokensPerSecond: number;
}

/** What a child reports on its last stdout line. */
interface CaseReport extends Measured {
  readonly key: string;
  readonly backend: string;
  /** Peak of live tensor data during the warm-up step, each buffer counted once (lib/autodiff/memory-meter.ts). */
  readonly peakTensorBytes: number;
  /** The largest tensor any kernel of the warm-up step produced. */
  readonly largestShape: number[];
  /** wasm heap size after the timed steps (the heap never shrinks), when on wasm. */
  readonly heapBytes?: number;
  /** The process's peak resident memory (the wasm heap, Node's arrays, ONNX Runtime's buffers). */
  readonly peakRssBytes: number;
}

const MiB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function wasmHeapBytes(): number | undefined {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm;
  return wasm?.HEAPU8.length;
}

async function measure(key: string, attention: 'block_sparse' | 'original_full', length: number, backend: string): Promise<CaseReport> {
  const model = new BigBirdModel({ config: configFor(attention), weights: randomWeights(attention), mode: 'train' });
  const optimizer = new AdamW(model.weights.variables, { flavour: 'bert', learningRate: 1e-4 });
  const batch = batchOf(length);
  const step = (): number => {
    const started = performance.now();
    const { loss, grads } = model.lossAndGrads(batch);
    if (process.env.KBB_MEM) console.error(`after gradients: ${MiB(tf.memory().numBytes)} in ${tf.memory().numTensors} tensors`);
    optimizer.applyGradients(grads);
    loss.dataSync(); // waits for the backend
    loss.dispose();
    for (const g of grads.values()) g.dispose();
    return (performance.now() - started) / 1000;
  };
  let warmup = 0;
  const resting = tf.memory().numBytes; // weights (moments come with the first step)
  const { result: profiling, peakOverStartBytes } = peakDataBytes(() =>
    tf.profile(() => {
      warmup = step();
    }),
  );
  const profile = await profiling;
  const peakTensorBytes = resting + peakOverStartBytes;
  let largestShape: number[] = [];
  let largest = -1;
  for (const kernel of profile.kernels) {
    for (const shape of kernel.outputShapes) {
      const size = elementCount(shape);
      if (size > largest) {
        largest = size;
        largestShape = shape;
      }
    }
  }
  // A second untimed step: under tf.profile the first one reads every output, so the backend keeps none
  // of its arrays for reuse (native-backend.ts), and the first timed step would pay for that.
  step();
  const times = Array.from({ length: steps }, step);
  const sorted = [...times].sort((a, b) => a - b);
  // Python's statistics.median, as the peer takes it.
  const seconds = ((sorted[Math.floor((sorted.length - 1) / 2)] as number) + (sorted[Math.ceil((sorted.length - 1) / 2)] as number)) / 2;
  const heapBytes = wasmHeapBytes();
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  console.error(
    `${attention} ${length}: warm-up ${warmup.toFixed(2)} s, steps ${times.map((t) => t.toFixed(2)).join(', ')} s → ${(length / seconds).toFixed(0)} tokens/s; ` +
      `peak tensor data ${MiB(peakTensorBytes)}, largest tensor [${largestShape.join(' × ')}]` +
      `${heapBytes === undefined ? '' : `, wasm heap ${MiB(heapBytes)}`}, peak RSS ${MiB(peakRssBytes)} (${tf.memory().numTensors} tensors live)`,
  );
  optimizer.dispose();
  model.dispose();
  return {
    key,
    backend,
    seconds,
    tokensPerSecond: length / seconds,
    peakTensorBytes,
    largestShape,
    peakRssBytes,
    ...(heapBytes === undefined ? {} : { heapBytes }),
  };
}

/**
 * The wasm backend does not check `_malloc`'s result: when the heap cannot grow (4 GB), a tensor gets
 * offset 0 and the run dies later of "memory access out of bounds" somewhere unrelated. In the
 * benchmark child a failed allocation throws at once instead, with the tensor data the backend holds
 * (the blocks it allocated, each counted once) and the heap size, so the parent can say why.
 */
function guardWasmMalloc(): void {
  const wasm = (tf.backend() as unknown as { wasm?: { _malloc(n: number): number; _free(p: number): void; HEAPU8: Uint8Array } }).wasm;
  if (wasm === undefined) return;
  wasm._free(wasm._malloc(8)); // Emscripten's lazy stubs replace themselves on the first call
  const malloc = wasm._malloc.bind(wasm);
  const free = wasm._free.bind(wasm);
  const sizes = new Map<number, number>();
  let live = 0;
  wasm._malloc = (n: number): number => {
    const at = malloc(n) >>> 0;
    if (at === 0 && n > 0) {
      throw new Error(
        `wasm heap exhausted: malloc of ${MiB(n)} failed with ${MiB(live)} of tensor data live in a ${MiB(wasm.HEAPU8.length)} heap (wasm32 limit 4096 MiB)`,
      );
    }
    sizes.set(at, n);
    live += n;
    return at;
  };
  wasm._free = (at: number): void => {
    const n = sizes.get(at >>> 0);
    if (n !== undefined) {
      live -= n;
      sizes.delete(at >>> 0);
    }
    free(at);
  };
}

const cases = [
  ['sparse_1024', 'block_sparse', 1024],
  ['sparse_2048', 'block_sparse', 2048],
  ['sparse_4096', 'block_sparse', 4096],
  ['full_1024', 'original_full', 1024],
  ['full_2048', 'original_full', 2048],
] as const;

/**
 * Issue 19's measurement of Hugging Face transformers 4.44.2 (torch 1.13 + OpenBLAS, 2 threads, the MLM
 * head on the masked positions only) on a 2-vCPU machine of the development kind: the mark when the
 * peer cannot run here.
 */
const HF_REFERENCE: Readonly<Record<string, number>> = { sparse_1024: 741, sparse_2048: 632, sparse_4096: 496, full_1024: 533, full_2048: 315 };

const REPORT = 'case-report ';
const only = values.only?.split(',');

if (values.child) {
  // Child: one configuration in this process; the report is the last stdout line.
  const [key, attention, length] = cases.find(([k]) => k === only?.[0]) ?? [];
  if (key === undefined || attention === undefined || length === undefined)
    throw new Error(`bench:model: no configuration ${only?.[0]} (have ${cases.map(([k]) => k).join(', ')})`);
  const selection = await selectBackend(values.backend ? { prefer: values.backend as 'wasm' } : {});
  console.error(`backend: ${describeBackendSelection(selection)}`);
  guardWasmMalloc();
  console.log(REPORT + JSON.stringify(await measure(key, attention, length, selection.backend)));
} else {
  // Parent: each backend of --backends, every configuration (or those of --only) in a child process of its own.
  const selected = (await selectBackend(values.backend ? { prefer: values.backend as 'wasm' } : {})).backend;
  const backends = values.backends?.split(',') ?? (selected === 'wasm' ? [selected] : [selected, 'wasm']);
  const script = fileURLToPath(import.meta.url);
  const byBackend: Record<string, Record<string, CaseReport | null>> = {};
  for (const backend of backends) byBackend[backend] = runCases(backend, script);
  const main = byBackend[backends[0] as string] ?? {};
  const tokensPerSecond = (results: Record<string, CaseReport | null>) =>
    Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r === null ? null : Number(r.tokensPerSecond.toFixed(1))]));
  const seconds = (key: string): number | undefined => main[key]?.seconds;
  const ratioOf = (a: string, b: string): number | null => {
    const x = seconds(a);
    const y = seconds(b);
    return x !== undefined && y !== undefined ? Number((x / y).toFixed(2)) : null;
  };
  const ratio = ratioOf('sparse_4096', 'sparse_1024');
  const fullRatio = ratioOf('full_2048', 'full_1024');
  console.error(`${backends[0]}: step time 4096/1024 block-sparse: ${ratio}×; full attention 2048/1024: ${fullRatio}×`);
  const sparse4096 = main.sparse_4096;
  if (sparse4096) {
    const [, , s4096] = cases[2];
    const square = sparse4096.largestShape.filter((d) => d === s4096).length >= 2;
    console.error(
      `largest tensor of a block-sparse 4096-token step: [${sparse4096.largestShape.join(' × ')}] (${square ? 'an [S × S] tensor: block-sparse attention is not sparse' : 'no [4096 × 4096] tensor'})`,
    );
  }
  const peer = values.layers === '2' ? runPeer() : undefined;
  printTable(byBackend, peer);
  console.log(
    JSON.stringify({
      tokens_per_s: tokensPerSecond(main),
      by_backend: Object.fromEntries(Object.entries(byBackend).map(([b, r]) => [b, tokensPerSecond(r)])),
      ...(peer === undefined ? {} : { hf_peer: peer }),
      sparse_time_ratio_4096_1024: ratio,
      backend: backends[0],
    }),
  );
}

function runCases(backend: string, script: string): Record<string, CaseReport | null> {
  const results: Record<string, CaseReport | null> = {};
  let describedBackend = false;
  for (const [key, attention, length] of cases) {
    if (only && !only.includes(key)) continue;
    const args = ['--import', 'tsx', script, '--child', '--only', key, '--steps', String(steps), '--layers', String(values.layers), '--backend', backend];
    // Each child runs as the `kbb` executable does, with its malloc settings (lib/backend/malloc-tunables.ts).
    const env = withNativeMallocTunables(process.env);
    const child = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 * 2 ** 20, env });
    // The child's own lines (backend, per-step summary), without the wasm glue's one-line source dump on a crash.
    const stderrLines = child.stderr.split('\n').filter((line) => line.length > 0 && line.length < 400);
    const reportLine = child.stdout.split('\n').find((line) => line.startsWith(REPORT));
    if (child.status === 0 && reportLine) {
      const report = JSON.parse(reportLine.slice(REPORT.length)) as CaseReport;
      if (!describedBackend) console.error(stderrLines.filter((line) => !line.startsWith(`${attention} ${length}:`)).join('\n'));
      describedBackend = true;
      console.error(stderrLines.filter((line) => line.startsWith(`${attention} ${length}:`)).join('\n'));
      results[key] = report;
    } else {
      const why =
        stderrLines.find((line) => line.includes('wasm heap exhausted')) ??
        (stderrLines
          .filter((line) => /Error|Abort|memory|heap/i.test(line))
          .slice(0, 2)
          .join(' | ') ||
          `exit ${child.status ?? child.signal}`);
      const scoreBytes = 12 * length * length * 4;
      const note =
        attention === 'original_full'
          ? `; full attention's score tensors are [1, 12, ${length}, ${length}], ${MiB(scoreBytes)} each, and the recomputed attention of one layer holds several at once in its backward pass`
          : '';
      console.error(`${backend} ${attention} ${length}: failed (${why})${note}; reported as null`);
      results[key] = null;
    }
  }
  return results;
}

/**
 * Hugging Face's step on the same shapes, in the same run, where Python has torch and transformers
 * (bench/model_peer.py: BigBirdForMaskedLM, torch AdamW, the MLM head on the masked positions only,
 * as kbb does). Undefined, with the reason on stderr, where it cannot run.
 */
function runPeer(): Record<string, number | null> | undefined {
  const peer = fileURLToPath(new URL('./model_peer.py', import.meta.url));
  const python = process.env.KBB_PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import torch, transformers'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const reason = probe.error ? 'python3 is not installed' : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
    console.error(`HF peer skipped: ${reason} (it needs python3 with torch and transformers)`);
    return undefined;
  }
  const keys = cases.filter(([key]) => !only || only.includes(key)).map(([key]) => key);
  const child = spawnSync(python, [peer, '--steps', String(steps), '--threads', String(availableParallelism()), ...keys], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 2 ** 20,
  });
  const line = child.stdout.trim().split('\n').pop();
  if (child.status !== 0 || line === undefined) {
    console.error(`HF peer failed (exit ${child.status ?? child.signal})`);
    return undefined;
  }
  return JSON.parse(line) as Record<string, number | null>;
}

function printTable(byBackend: Record<string, Record<string, CaseReport | null>>, peer: Record<string, number | null> | undefined): void {
  const keys = cases.map(([key]) => key).filter((key) => !only || only.includes(key));
  // Hugging Face's figures are for the 2-layer model: other depths get no comparison.
  const hf: Readonly<Record<string, number | null>> = peer ?? (values.layers === '2' ? HF_REFERENCE : {});
  const hfLabel = peer ? 'HF transformers (this run)' : 'HF transformers 4.44.2 (issue 19 table)';
  const cell = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(0));
  const rows: string[][] = [['tokens/s', ...keys]];
  for (const [backend, results] of Object.entries(byBackend)) rows.push([`kbb ${backend}`, ...keys.map((k) => cell(results[k]?.tokensPerSecond))]);
  rows.push([hfLabel, ...keys.map((k) => cell(hf[k]))]);
  for (const [backend, results] of Object.entries(byBackend)) {
    rows.push([
      `kbb ${backend} / HF`,
      ...keys.map((k) => {
        const ours = results[k]?.tokensPerSecond;
        const theirs = hf[k];
        return ours && theirs ? `${(ours / theirs).toFixed(2)}×` : '—';
      }),
    ]);
  }
  const first = Object.values(byBackend)[0] ?? {};
  rows.push(['peak RSS (first backend)', ...keys.map((k) => MiB(first[k]?.peakRssBytes ?? Number.NaN))]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of rows) console.error(row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '));
}
