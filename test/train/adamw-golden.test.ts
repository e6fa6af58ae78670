import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWeightsFromSafetensors, toHfNamed } from '../../lib/convert/index.js';
import { readBigBirdConfig } from '../../lib/model/config-files.js';
import { BigBirdModel } from '../../lib/model/index.js';
import { AdamW } from '../../lib/train/adamw.js';
import { fixture, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { readNpy } from '../helpers/npy.js';
import { useTestBackend } from '../helpers/tf-backend.js';

const CASE = 'mlm_block_sparse_train_s64';

/**
 * The golden training case: HF's BigBirdForMaskedLM in train() (dropout 0, the seeded random plan)
 * stepped three times by torch.optim.AdamW(lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01)
 * on one batch. kbb's model and its AdamW in the PyTorch flavour must give the same four losses and
 * the same four parameters afterwards.
 */
describe.skipIf(!hasFixtures)('three AdamW steps reproduce the golden Hugging Face training run', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it('losses at steps 1–3 and after, and four parameters after three steps', async () => {
    const dir = fixture('golden-bigbird', CASE);
    const config = await readBigBirdConfig(join(dir, 'config.json'));
    const weights = await loadWeightsFromSafetensors(join(dir, 'model.safetensors'), config, 'masked-lm');
    // train(): the seeded random plan; the case's config sets both dropout rates to 0.
    const model = new BigBirdModel({ config, weights, mode: 'train' });
    const ints = (file: string): Int32Array => readNpy(join(dir, 'inputs', file)).data as Int32Array;
    const inputIds = ints('input_ids.npy');
    const [batchSize, seqLen] = readNpy(join(dir, 'inputs', 'input_ids.npy')).shape;
    const batch = {
      inputIds,
      attentionMask: ints('attention_mask.npy'),
      tokenTypeIds: ints('token_type_ids.npy'),
      labels: ints('labels.npy'),
      shape: [batchSize, seqLen] as const,
    };
    const optimizer = new AdamW(weights.variables, { flavour: 'pytorch', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });

    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      const { loss, grads } = model.lossAndGrads(batch);
      losses.push(loss.dataSync()[0]);
      optimizer.applyGradients(grads);
      loss.dispose();
      for (const g of grads.values()) g.dispose();
    }
    const after = model.loss(batch);
    losses.push(after.dataSync()[0]);
    after.dispose();

    const expectedLosses = Array.from(readNpy(join(dir, 'adamw', 'losses.npy')).data as Float32Array);
    expect(losses).toHaveLength(expectedLosses.length);
    if (process.env.KBB_REPORT) console.log(`losses ${losses.join(', ')} vs ${expectedLosses.join(', ')}`);
    losses.forEach((loss, i) => {
      expect(Math.abs(loss - expectedLosses[i]) / expectedLosses[i], `loss ${i + 1}: ${loss} vs ${expectedLosses[i]}`).toBeLessThan(1e-5);
    });

    const hfParams = toHfNamed(weights.variables);
    for (const name of [
      'bert.embeddings.word_embeddings.weight',
      'bert.encoder.layer.0.attention.self.query.weight',
      'cls.predictions.transform.dense.weight',
      'cls.predictions.bias',
    ]) {
      const expected = readNpy(join(dir, 'adamw', `${name}.after_3_steps.npy`));
      const got = hfParams.get(name);
      expect(got, name).toBeDefined();
      expect(got!.shape, name).toEqual(expected.shape);
      const values = got!.dataSync();
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - (expected.data as Float32Array)[i]));
      if (process.env.KBB_REPORT) console.log(`${name}: max |kbb − HF| after 3 steps = ${worst.toExponential(2)}`);
      expect(worst, `${name}: max |kbb − HF| after 3 steps`).toBeLessThan(1e-4);
    }
    for (const t of hfParams.values()) if (!(t instanceof tf.Variable)) t.dispose();
    optimizer.dispose();
    model.dispose();
  });
  if (!hasFixtures) it.skip(SKIP_NO_FIXTURES, () => {});
});
