import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bigBirdVariables, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

const dir = mkdtempSync(join(tmpdir(), 'kbb-ckpt-cli-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the real `kbb` entry point. Asynchronously: the emulator serves from this process, so a
 * blocking spawn would leave the child waiting on it for ever. The child inherits STORAGE_EMULATOR_HOST.
 */
function kbb(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, 'bin', 'kbb.js'), ...args],
      { cwd: projectRoot, env: { ...process.env, KBB_DEBUG: '' }, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const CONFIG = {
  model_type: 'big_bird',
  vocab_size: 13,
  hidden_size: 4,
  num_hidden_layers: 2,
  intermediate_size: 8,
  max_position_embeddings: 32,
  type_vocab_size: 2,
  num_attention_heads: 2,
  block_size: 4,
};

/** A BERT checkpoint of CONFIG's sizes as BERT's trainer leaves it: its LayerNorm name, a 16-row position table, Adam slots, global_step. */
function bert(): TensorToWrite[] {
  const tensors: TensorToWrite[] = bigBirdVariables({ ...CONFIG, max_position_embeddings: 16 }).flatMap((v) => {
    const name = v.name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm');
    const data = new Uint8Array(Float32Array.from({ length: elementCount(v.shape) }, (_, i) => Math.sin(i + name.length)).buffer);
    return ['', '/adam_m', '/adam_v'].map((slot) => ({ name: `${name}${slot}`, dtype: 'float32' as const, shape: v.shape, data }));
  });
  const step = new Uint8Array(8);
  step[0] = 20;
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: step });
  return tensors;
}

/** Every object under a gs:// folder equals the file of that name in a local one, and there are no others. */
async function expectSameFiles(local: string, remote: string, names: readonly string[]): Promise<void> {
  expect(readdirSync(local).sort()).toEqual([...names].sort());
  expect((await fileSystemFor(remote).listRecursive(remote)).sort()).toEqual([...names].sort());
  for (const name of names) {
    const object = joinPath(remote, name);
    expect((await fileSystemFor(object).readFile(object)).equals(readFileSync(join(local, name))), name).toBe(true);
  }
}

describe.skipIf(!hasGcsEmulator)('kbb ckpt, warm-start, export and import-hf on gs:// paths (Storage emulator)', () => {
  it('say and write for gs:// exactly what they say and write for the same files on disk', async () => {
    const bucket = `gs://${uniqueBucket('cli-ckpt')}`;
    const localBert = join(dir, 'bert', 'bert_model.ckpt');
    const remoteBert = `${bucket}/bert/bert_model.ckpt`;
    await writeCheckpoint(localBert, bert());
    await writeCheckpoint(remoteBert, bert());
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(CONFIG));

    for (const flags of [[], ['--json']]) {
      const [local, remote] = await Promise.all([kbb('ckpt', 'ls', ...flags, localBert), kbb('ckpt', 'ls', ...flags, remoteBert)]);
      expect(local.status, local.stderr).toBe(0);
      expect(remote.status, remote.stderr).toBe(0);
      expect(remote.stdout).toBe(local.stdout);
      expect(local.stdout).toContain('bert/encoder/layer_1/output/dense/kernel');
    }

    const warmLocal = await kbb('warm-start', '--init_checkpoint', localBert, '--config', config, '--output_dir', join(dir, 'bigbird'), '--seed', '3');
    const warmRemote = await kbb('warm-start', '--init_checkpoint', remoteBert, '--config', config, '--output_dir', `${bucket}/bigbird`, '--seed', '3');
    expect(warmLocal.status, warmLocal.stderr).toBe(0);
    expect(warmRemote.status, warmRemote.stderr).toBe(0);
    expect(warmRemote.stdout).toBe(warmLocal.stdout.replace(`wrote ${join(dir, 'bigbird')}/`, `wrote ${bucket}/bigbird/`));
    expect(warmRemote.stdout).toContain(`wrote ${bucket}/bigbird/model.ckpt-0 (`);
    await expectSameFiles(join(dir, 'bigbird'), `${bucket}/bigbird`, ['checkpoint', 'model.ckpt-0.data-00000-of-00001', 'model.ckpt-0.index']);
    const refused = await kbb('warm-start', '--init_checkpoint', remoteBert, '--config', config, '--output_dir', `${bucket}/bigbird`);
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe(`kbb: ${bucket}/bigbird/model.ckpt-0.index exists; pass --overwrite to replace it`);

    const [diffLocal, diffRemote] = await Promise.all([
      kbb('ckpt', 'diff', localBert, join(dir, 'bigbird', 'model.ckpt-0')),
      kbb('ckpt', 'diff', remoteBert, `${bucket}/bigbird/model.ckpt-0`),
    ]);
    expect(diffLocal.status, diffLocal.stderr).toBe(0);
    expect(diffRemote.stdout).toBe(diffLocal.stdout);
    expect(diffLocal.stdout).toMatch(/bert\/embeddings\/position_embeddings +reshaped +float32 \[16, 4\] → float32 \[32, 4\]/);

    // The warm start, exported from the bucket to disk and to the bucket, then imported back to the bucket.
    const exportFlags = ['--big_bird_config_file', config, '--no-tokenizer', '--pytorch_bin'];
    const exportLocal = await kbb('export', '--checkpoint_dir', join(dir, 'bigbird'), '--output_dir', join(dir, 'hf'), ...exportFlags);
    const exportRemote = await kbb('export', '--checkpoint_dir', `${bucket}/bigbird`, '--output_dir', `${bucket}/hf`, ...exportFlags);
    expect(exportLocal.status, exportLocal.stderr).toBe(0);
    expect(exportRemote.status, exportRemote.stderr).toBe(0);
    expect(exportRemote.stdout).toMatch(new RegExp(`exported ${bucket}/bigbird/model\\.ckpt-0 as BigBirdForPreTraining \\(`));
    await expectSameFiles(join(dir, 'hf'), `${bucket}/hf`, ['config.json', 'model.safetensors', 'pytorch_model.bin']);

    const importLocal = await kbb('import-hf', '--hf_dir', join(dir, 'hf'), '--output_dir', join(dir, 'back'));
    const importRemote = await kbb('import-hf', '--hf_dir', `${bucket}/hf`, '--output_dir', `${bucket}/back`);
    expect(importLocal.status, importLocal.stderr).toBe(0);
    expect(importRemote.status, importRemote.stderr).toBe(0);
    await expectSameFiles(join(dir, 'back'), `${bucket}/back`, [
      'checkpoint',
      'model.ckpt-0.data-00000-of-00001',
      'model.ckpt-0.index',
      'pretrain_config.json',
    ]);

    const missing = await kbb('ckpt', 'ls', `${bucket}/nope/model.ckpt-1`);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain(`${bucket}/nope/model.ckpt-1.index: cannot read the checkpoint index`);
  }, 180_000);
});
