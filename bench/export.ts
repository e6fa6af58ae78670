/**
 * `kbb export` throughput on a base-size KoBigBird checkpoint (spec §3.7: 114,380,022 float32
 * parameters, 457.5 MB) filled with random weights.
 *
 *   npm run bench:export [-- --repeats 3 --layers 12 --slots 0]
 *
 * The reference converter needs TensorFlow and PyTorch, which this machine cannot install, so the
 * peer measured in the same run is the floor any exporter has: copying the checkpoint's data file
 * with `cp` and syncing it (same bytes read and written, no renaming, transposing or checksums).
 * `--slots 2` adds the two optimizer slots a training checkpoint has per weight (they are skipped,
 * but make the data file 3× larger). MB/s = model MB / wall seconds, best of `repeats`. Peak RSS shows
 * the export streams (it stays far below the model's size). The last line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type TensorToWrite, writeCheckpoint, writeCheckpointState } from '../lib/checkpoint/index.js';
import { bigBirdTfVariables, formatTfConfigJson, hfConfigFromTf } from '../lib/model/index.js';
import { elementCount } from '../lib/tensor/index.js';
import { byCodePoints } from '../lib/text/index.js';
import { pretrainConfig, TRAIN_DEFAULTS } from '../lib/train/index.js';
import { projectRoot } from './bench-inputs.js';

const { values } = parseArgs({
  options: { repeats: { type: 'string', default: '3' }, layers: { type: 'string', default: '12' }, slots: { type: 'string', default: '0' } },
});
const repeats = Number(values.repeats);
const slots = Number(values.slots);

/** KoBigBird-base's pretrain_config.json: the reference flags' defaults (the base model) with its block size and tokenizer. */
const tfConfig = pretrainConfig(
  { ...TRAIN_DEFAULTS, block_size: 64, num_hidden_layers: Number(values.layers) },
  { vocabSize: 32500, ids: { pad_token_id: 0, unk_token_id: 1, cls_token_id: 2, sep_token_id: 3, mask_token_id: 4, bos_token_id: 5, eos_token_id: 6 } },
);

/** Finite float32 weights around ±0.02 (random bits could be NaN, which no checkpoint holds). */
function randomWeights(count: number, seed: number): Uint8Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 0.04;
  }
  return new Uint8Array(out.buffer);
}

const scratch = mkdtempSync(join(tmpdir(), 'kbb-bench-export-'));
try {
  const checkpointDir = join(scratch, 'ckpt');
  const variables = bigBirdTfVariables(hfConfigFromTf(tfConfig));
  const tensors: TensorToWrite[] = [];
  variables.forEach((v, i) => {
    tensors.push({ name: v.name, dtype: 'float32', shape: v.shape, data: async () => randomWeights(elementCount(v.shape), i + 1) });
    for (const slot of ['AdamWeightDecayOptimizer', 'AdamWeightDecayOptimizer_1'].slice(0, slots))
      tensors.push({ name: `${v.name}/${slot}`, dtype: 'float32', shape: v.shape, data: async () => new Uint8Array(elementCount(v.shape) * 4) });
  });
  tensors.sort(byCodePoints((t) => t.name));
  await writeCheckpoint(join(checkpointDir, 'model.ckpt-1000'), tensors);
  await writeCheckpointState(checkpointDir, { modelCheckpointPath: 'model.ckpt-1000', allModelCheckpointPaths: ['model.ckpt-1000'] });
  writeFileSync(join(checkpointDir, 'pretrain_config.json'), formatTfConfigJson(tfConfig));
  const parameters = variables.reduce((n, v) => n + elementCount(v.shape), 0);
  const megabytes = (parameters * 4) / 1e6;
  console.error(
    `base-size checkpoint: ${parameters.toLocaleString('en-US')} parameters, ${megabytes.toFixed(1)} MB${slots ? ` (+${slots} optimizer slots each)` : ''}; best of ${repeats}`,
  );

  let runs = 0;
  const exportOnce = (format: 'safetensors' | 'bin'): { seconds: number; maxRssMb: number } => {
    const output = join(scratch, `hf-${runs++}`);
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'bench', 'export-run.ts'), checkpointDir, output, format], {
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(result.stderr);
    rmSync(output, { recursive: true, force: true });
    return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
  };
  const copyOnce = (): number => {
    const target = join(scratch, `copy-${runs++}`);
    const started = performance.now();
    const result = spawnSync('sh', ['-c', `cp "$1" "$2" && sync "$2"`, 'sh', join(checkpointDir, 'model.ckpt-1000.data-00000-of-00001'), target]);
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(String(result.stderr));
    rmSync(target);
    return seconds;
  };
  const best = <T extends { seconds: number }>(label: string, all: T[]): T => {
    console.error(`${label}: ${all.map((r) => `${r.seconds.toFixed(2)} s`).join(', ')}`);
    return all.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  };
  const safetensors = best(
    'kbb export (model.safetensors)',
    Array.from({ length: repeats }, () => exportOnce('safetensors')),
  );
  const withBin = best(
    'kbb export --pytorch_bin (+ pytorch_model.bin)',
    Array.from({ length: repeats }, () => exportOnce('bin')),
  );
  const copy = best(
    'cp data file + sync',
    Array.from({ length: repeats }, () => ({ seconds: copyOnce() })),
  );
  const copyMb = (megabytes * (slots + 1)) / copy.seconds;
  console.error(
    `kbb export: ${(megabytes / safetensors.seconds).toFixed(0)} MB/s (${safetensors.seconds.toFixed(2)} s, peak RSS ${safetensors.maxRssMb.toFixed(0)} MB)`,
  );
  console.error(
    `kbb export --pytorch_bin: ${(megabytes / withBin.seconds).toFixed(0)} MB/s of model (${withBin.seconds.toFixed(2)} s for both files, peak RSS ${withBin.maxRssMb.toFixed(0)} MB)`,
  );
  console.error(`cp + sync of the data file: ${copyMb.toFixed(0)} MB/s (${copy.seconds.toFixed(2)} s)`);
  console.log(
    JSON.stringify({
      mb_s: Number((megabytes / safetensors.seconds).toFixed(1)),
      seconds: Number(safetensors.seconds.toFixed(2)),
      peak_rss_mb: Math.round(safetensors.maxRssMb),
      with_pytorch_bin_mb_s: Number((megabytes / withBin.seconds).toFixed(1)),
      copy_mb_s: Number(copyMb.toFixed(1)),
      export_vs_copy: Number((megabytes / safetensors.seconds / copyMb).toFixed(2)),
    }),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
