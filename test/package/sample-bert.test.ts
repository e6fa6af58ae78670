import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bigBirdVariables, CheckpointReader, planWarmStart } from '../../lib/checkpoint/index.js';
import { hfConfigFromTf } from '../../lib/model/index.js';
import { packageRoot, sampleBertCheckpoint, sampleBertDir, sampleTokenizerDir } from '../../lib/package/index.js';
import { pretrainConfig, SAMPLE_TRAIN_FLAGS, TRAIN_DEFAULTS } from '../../lib/train/index.js';
import { fixture, hasFixtures, projectRoot } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'kbb-sample-bert-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const vocabSize = readFileSync(join(sampleTokenizerDir, 'vocab.txt'), 'utf8').split('\n').filter(Boolean).length;
const bertConfig = (): Record<string, unknown> => JSON.parse(readFileSync(join(sampleBertDir, 'bert_config.json'), 'utf8'));
const withoutSlots = (names: readonly string[]): string[] => names.filter((n) => !/\/adam_[mv]$/.test(n));

describe('the sample BERT checkpoint (data/sample-bert)', () => {
  it('lives in the package, and sampleBertCheckpoint is the prefix --init_checkpoint takes', () => {
    expect(sampleBertDir).toBe(join(packageRoot, 'data', 'sample-bert'));
    expect(sampleBertCheckpoint).toBe(join(sampleBertDir, 'bert_model.ckpt'));
    expect(readdirSync(sampleBertDir).sort()).toEqual(['README.md', 'bert_config.json', 'bert_model.ckpt.data-00000-of-00001', 'bert_model.ckpt.index']);
    const bytes = readdirSync(sampleBertDir).reduce((n, f) => n + statSync(join(sampleBertDir, f)).size, 0);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
  });

  it("has bert_config.json's keys, the sample vocabulary's size, BERT's 512 positions and the sample BigBird's sizes", () => {
    const config = bertConfig();
    expect(Object.keys(config)).toEqual([
      'attention_probs_dropout_prob',
      'hidden_act',
      'hidden_dropout_prob',
      'hidden_size',
      'initializer_range',
      'intermediate_size',
      'max_position_embeddings',
      'num_attention_heads',
      'num_hidden_layers',
      'type_vocab_size',
      'vocab_size',
    ]);
    expect(config).toMatchObject({
      vocab_size: vocabSize,
      max_position_embeddings: 512,
      hidden_size: SAMPLE_TRAIN_FLAGS.hidden_size,
      num_hidden_layers: SAMPLE_TRAIN_FLAGS.num_hidden_layers,
      num_attention_heads: SAMPLE_TRAIN_FLAGS.num_attention_heads,
      intermediate_size: SAMPLE_TRAIN_FLAGS.intermediate_size,
    });
  });

  it('holds every trainable variable with its shape, an adam_m and adam_v slot of that shape for each, and an int64 global_step', async () => {
    const reader = await CheckpointReader.open(sampleBertCheckpoint);
    const config = bertConfig() as Record<string, number>;
    const byName = new Map(reader.variables.map((v) => [v.name, v]));
    const trainable = reader.variables.filter((v) => v.name !== 'global_step' && !/\/adam_[mv]$/.test(v.name));
    expect(reader.variables.length).toBe(3 * trainable.length + 1);
    for (const v of trainable) {
      expect(v.dtype, v.name).toBe('float32');
      for (const slot of ['adam_m', 'adam_v']) expect(byName.get(`${v.name}/${slot}`)?.shape, `${v.name}/${slot}`).toEqual(v.shape);
    }
    expect(byName.get('bert/embeddings/word_embeddings')?.shape).toEqual([vocabSize, config.hidden_size]);
    expect(byName.get('bert/embeddings/position_embeddings')?.shape).toEqual([512, config.hidden_size]);
    expect(byName.get('cls/predictions/output_bias')?.shape).toEqual([vocabSize]);
    expect(byName.get(`bert/encoder/layer_${config.num_hidden_layers - 1}/intermediate/dense/kernel`)?.shape).toEqual([
      config.hidden_size,
      config.intermediate_size,
    ]);
    const step = await reader.read('global_step');
    expect(step.dtype).toBe('int64');
    expect(step.values).toEqual(new BigInt64Array([1_000_000n]));
    // Seeded, not constant: the Adam second moments are positive, the weights spread around zero.
    expect(Math.min(...((await reader.read('bert/pooler/dense/kernel/adam_v')).values as Float32Array))).toBeGreaterThan(0);
    const kernel = (await reader.read('bert/pooler/dense/kernel')).values as Float32Array;
    expect(new Set(kernel).size).toBe(kernel.length);
    await reader.close();
  });

  it.skipIf(!hasFixtures)("has the variables of a checkpoint Google's BERT wrote (keras-bert-tiny, 2 layers, in ../shared/fixtures)", async () => {
    const [sample, tiny] = await Promise.all([
      CheckpointReader.open(sampleBertCheckpoint),
      CheckpointReader.open(fixture('tf-checkpoints', 'keras-bert-tiny', 'bert_model.ckpt')),
    ]);
    expect(sample.variables.map((v) => v.name)).toEqual(tiny.variables.map((v) => v.name));
    expect(sample.variables.map((v) => v.dtype)).toEqual(tiny.variables.map((v) => v.dtype));
    await Promise.all([sample.close(), tiny.close()]);
  });

  it('warm-starts the sample BigBird (SAMPLE_TRAIN_FLAGS): no shape mismatch, the LayerNorm renamed, a fresh position table, slots and step skipped', async () => {
    const tfConfig = pretrainConfig({ ...TRAIN_DEFAULTS, ...SAMPLE_TRAIN_FLAGS }, { vocabSize, ids: {} });
    const target = bigBirdVariables(hfConfigFromTf(tfConfig));
    const reader = await CheckpointReader.open(sampleBertCheckpoint);
    const plan = planWarmStart(reader.variables, target);
    await reader.close();
    const trainable = withoutSlots(reader.variables.map((v) => v.name)).length - 1;
    expect(plan.rows.filter((r) => r.action === 'rename').map((r) => [r.source, r.target])).toEqual([
      ['bert/embeddings/LayerNorm/beta', 'bert/encoder/LayerNorm/beta'],
      ['bert/embeddings/LayerNorm/gamma', 'bert/encoder/LayerNorm/gamma'],
    ]);
    expect(plan.rows.filter((r) => r.action === 'fresh')).toMatchObject([
      { target: 'bert/embeddings/position_embeddings', shape: [SAMPLE_TRAIN_FLAGS.max_position_embeddings, SAMPLE_TRAIN_FLAGS.hidden_size] },
    ]);
    expect(plan.rows.filter((r) => r.action === 'copy').length).toBe(target.length - 3);
    const reasons = new Map<string, number>();
    for (const u of plan.unused) reasons.set(u.reason, (reasons.get(u.reason) ?? 0) + 1);
    expect(Object.fromEntries(reasons)).toEqual({
      'optimizer state': 2 * trainable,
      'step counter: the BigBird run starts at step 0': 1,
      "random_pos_emb: BERT's 512-row position table is not reused": 1,
    });
  });

  it('is what scripts/make-sample-bert.ts writes, byte for byte, every time', () => {
    const out = join(work, 'regenerated');
    execFileSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts', 'make-sample-bert.ts'), '--out', out], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    const files = readdirSync(sampleBertDir).sort();
    expect(readdirSync(out).sort()).toEqual(files);
    for (const file of files) expect(readFileSync(join(out, file)).equals(readFileSync(join(sampleBertDir, file))), file).toBe(true);
    // Another seed writes other values.
    const other = join(work, 'other-seed');
    execFileSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts', 'make-sample-bert.ts'), '--out', other, '--seed', '7'], {
      cwd: projectRoot,
    });
    const data = 'bert_model.ckpt.data-00000-of-00001';
    expect(readFileSync(join(other, data)).equals(readFileSync(join(sampleBertDir, data)))).toBe(false);
  }, 60_000);
});
