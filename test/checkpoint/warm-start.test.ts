import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bigBirdVariables,
  CheckpointReader,
  latestCheckpoint,
  materialiseWarmStart,
  planWarmStart,
  type TensorToWrite,
  warmStart,
  writeCheckpoint,
} from '../../lib/checkpoint/index.js';
import { readBigBirdConfig } from '../../lib/model/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-warm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = {
  vocab_size: 32500,
  hidden_size: 768,
  num_hidden_layers: 12,
  intermediate_size: 3072,
  max_position_embeddings: 4096,
  type_vocab_size: 2,
  initializer_range: 0.02,
};

describe('BigBird variables (spec §3.7)', () => {
  it('the base model has 114,380,022 parameters in 16 + 16 per layer variables', () => {
    const variables = bigBirdVariables(BASE);
    expect(variables.reduce((n, v) => n + v.shape.reduce((a, b) => a * b, 1), 0)).toBe(114_380_022);
    expect(variables.length).toBe(5 + 16 * 12 + 9);
    expect(variables.find((v) => v.name === 'bert/encoder/layer_11/intermediate/dense/kernel')?.shape).toEqual([768, 3072]);
  });
});

/** A BigBird config matching keras-bert-tiny's bert_config.json, with a longer position table. */
function tinyConfig(overrides: Record<string, number> = {}): string {
  const bert = JSON.parse(readFileSync(fixture('tf-checkpoints', 'keras-bert-tiny', 'bert_config.json'), 'utf8'));
  const path = join(dir, `config-${Object.keys(overrides).join('-') || 'tiny'}.json`);
  writeFileSync(path, JSON.stringify({ ...bert, model_type: 'big_bird', max_position_embeddings: 64, block_size: 4, ...overrides }));
  return path;
}

describe.skipIf(!hasFixtures)('warm start BERT → BigBird on keras-bert-tiny (../shared/fixtures/tf-checkpoints)', () => {
  const prefix = (): string => fixture('tf-checkpoints', 'keras-bert-tiny', 'bert_model.ckpt');

  it('plans every variable: copies, the LayerNorm rename, a fresh position table; says why each source is unused', async () => {
    const reader = await CheckpointReader.open(prefix());
    const plan = planWarmStart(reader.variables, bigBirdVariables(await readBigBirdConfig(tinyConfig())));
    const byTarget = new Map(plan.rows.map((r) => [r.target, r]));
    expect(plan.rows.length).toBe(5 + 16 * 2 + 9);
    expect(byTarget.get('bert/encoder/LayerNorm/gamma')).toMatchObject({ action: 'rename', source: 'bert/embeddings/LayerNorm/gamma' });
    expect(byTarget.get('bert/embeddings/position_embeddings')).toMatchObject({ action: 'fresh', shape: [64, 4] });
    expect(plan.rows.filter((r) => r.action === 'copy').length).toBe(plan.rows.length - 3);
    expect(byTarget.get('cls/predictions/output_bias')).toMatchObject({ action: 'copy', source: 'cls/predictions/output_bias' });
    const reasons = new Map<string, number>();
    for (const u of plan.unused) reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);
    // 46 variables × (adam_m, adam_v), global_step, and BERT's 16-row position table.
    expect(Object.fromEntries(reasons)).toEqual({
      'optimizer state': 92,
      'step counter: the BigBird run starts at step 0': 1,
      "random_pos_emb: BERT's 16-row position table is not reused": 1,
    });
    await reader.close();
  });

  it('a vocabulary that differs from the BERT is refused, naming each variable and both shapes', async () => {
    const reader = await CheckpointReader.open(prefix());
    const target = bigBirdVariables(await readBigBirdConfig(tinyConfig({ vocab_size: 16 })));
    expect(() => planWarmStart(reader.variables, target)).toThrow(
      /2 shape mismatch.*\n.*bert\/embeddings\/word_embeddings: checkpoint bert\/embeddings\/word_embeddings is \[15,4\], the BigBird config needs \[16,4\]\n.*cls\/predictions\/output_bias/,
    );
    await reader.close();
  });

  it('writes model.ckpt-0: copied tensors byte for byte, a seeded truncated-normal position table, global_step 0', async () => {
    const reader = await CheckpointReader.open(prefix());
    const config = await readBigBirdConfig(tinyConfig());
    const plan = planWarmStart(reader.variables, bigBirdVariables(config));
    const out = join(dir, 'warm');
    const written = await materialiseWarmStart(plan, reader, out, { seed: 7, initializerRange: config.initializer_range });
    expect(await latestCheckpoint(out)).toBe(written);
    const result = await CheckpointReader.open(written);
    expect(result.variables.map((v) => v.name)).toEqual([...plan.rows.map((r) => r.target), 'global_step'].sort());
    for (const row of plan.rows.filter((r) => r.source)) {
      expect(Buffer.from(await result.readBytes(row.target)).equals(Buffer.from(await reader.readBytes(row.source!))), row.target).toBe(true);
    }
    const table = (await result.read('bert/embeddings/position_embeddings')).values as Float32Array;
    expect(table.length).toBe(64 * 4);
    expect(Math.max(...Array.from(table, Math.abs))).toBeLessThanOrEqual(2 * 0.02);
    const std = Math.sqrt(table.reduce((s, x) => s + x * x, 0) / table.length);
    // A normal truncated at 2σ has standard deviation 0.88σ; 256 draws put the estimate within ±15%.
    expect(std).toBeGreaterThan(0.88 * 0.02 * 0.85);
    expect(std).toBeLessThan(0.88 * 0.02 * 1.15);
    expect((await result.read('global_step')).values).toEqual(new BigInt64Array([0n]));

    const again = await materialiseWarmStart(plan, reader, join(dir, 'warm-again'), { seed: 7, initializerRange: 0.02 });
    const other = await materialiseWarmStart(plan, reader, join(dir, 'warm-other'), { seed: 8, initializerRange: 0.02 });
    expect(readFileSync(`${again}.data-00000-of-00001`).equals(readFileSync(`${written}.data-00000-of-00001`))).toBe(true);
    expect(readFileSync(`${other}.data-00000-of-00001`).equals(readFileSync(`${written}.data-00000-of-00001`))).toBe(false);
    await Promise.all([reader.close(), result.close()]);
  });
});

describe('warmStart, end to end on a BERT checkpoint written here', () => {
  const config = {
    model_type: 'big_bird',
    vocab_size: 11,
    hidden_size: 4,
    num_hidden_layers: 1,
    intermediate_size: 8,
    max_position_embeddings: 32,
    type_vocab_size: 2,
    num_attention_heads: 2,
  };
  /** A BERT checkpoint of the same sizes: BERT's LayerNorm name, a 16-row position table, Adam slots and global_step. */
  async function bertCheckpoint(): Promise<string> {
    const prefix = join(dir, 'bert', 'bert_model.ckpt');
    const tensors: TensorToWrite[] = bigBirdVariables({ ...config, max_position_embeddings: 16 }).flatMap((v) => {
      const name = v.name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm');
      const data = new Uint8Array(Float32Array.from({ length: elementCount(v.shape) }, (_, i) => i / 100).buffer);
      return ['', '/adam_m', '/adam_v'].map((slot) => ({ name: `${name}${slot}`, dtype: 'float32' as const, shape: v.shape, data }));
    });
    tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(8) });
    await writeCheckpoint(
      prefix,
      tensors.sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    return prefix;
  }

  it('shows the plan before writing anything, refuses to replace its output without overwrite (before reading anything), and replaces it the same with', async () => {
    const initCheckpoint = await bertCheckpoint();
    const configFile = join(dir, 'bigbird-config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const outputDir = join(dir, 'warm-run');
    const seenAtPlan: boolean[] = [];
    const first = await warmStart({ initCheckpoint, configFile, outputDir, seed: 5, onPlan: () => seenAtPlan.push(existsSync(outputDir)) });
    expect(seenAtPlan).toEqual([false]);
    expect(first.prefix).toBe(join(outputDir, 'model.ckpt-0'));
    expect(await latestCheckpoint(outputDir)).toBe(first.prefix);
    expect(first.plan.rows.filter((r) => r.action === 'rename').map((r) => r.target)).toEqual(['bert/encoder/LayerNorm/beta', 'bert/encoder/LayerNorm/gamma']);
    const data = readFileSync(`${first.prefix}.data-00000-of-00001`);

    const index = join(outputDir, 'model.ckpt-0.index');
    const refusal = `${index} exists; pass --overwrite to replace it`;
    await expect(warmStart({ initCheckpoint, configFile, outputDir })).rejects.toThrow(refusal);
    // Refused before the config or the checkpoint is read: neither exists here.
    await expect(warmStart({ initCheckpoint: join(dir, 'nope'), configFile: join(dir, 'nope.json'), outputDir })).rejects.toThrow(refusal);
    const reader = await CheckpointReader.open(initCheckpoint);
    const plan = planWarmStart(reader.variables, bigBirdVariables(config));
    await expect(materialiseWarmStart(plan, reader, outputDir, { initializerRange: 0.02 })).rejects.toThrow(refusal);
    await reader.close();

    const again = await warmStart({ initCheckpoint, configFile, outputDir, seed: 5, overwrite: true });
    expect(readFileSync(`${again.prefix}.data-00000-of-00001`).equals(data)).toBe(true);
  });

  it('a cancel after the plan is shown leaves no output', async () => {
    const initCheckpoint = join(dir, 'bert', 'bert_model.ckpt');
    const configFile = join(dir, 'bigbird-config.json');
    const outputDir = join(dir, 'warm-cancelled');
    const cancel = new AbortController();
    await expect(warmStart({ initCheckpoint, configFile, outputDir, signal: cancel.signal, onPlan: () => cancel.abort() })).rejects.toThrow(/abort/i);
    expect(existsSync(outputDir)).toBe(false);
  });
});
