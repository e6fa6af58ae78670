import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tfToHfName, transpose2d } from '../../lib/convert/hf-names.js';
import { loadWeightsFromSafetensors, toHfNamed } from '../../lib/convert/index.js';
import { writeSafetensors } from '../../lib/convert/safetensors.js';
import { hfConfigFromJson } from '../../lib/model/config-files.js';
import { type BigBirdConfig, BigBirdModel, BigBirdWeights, bigBirdModelVariables, type NamedArray } from '../../lib/model/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';

const config: BigBirdConfig = hfConfigFromJson({
  model_type: 'big_bird',
  vocab_size: 11,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 12,
  max_position_embeddings: 64,
  block_size: 4,
  num_random_blocks: 1,
});

/** Distinct values per parameter (name index + position), so a mix-up or a missed transpose shows. */
function arrays(head: 'masked-lm' | 'pretraining'): Map<string, NamedArray> {
  return new Map(
    bigBirdModelVariables(config, head).map(({ name, shape }, n) => {
      const size = shape.reduce((a, b) => a * b, 1);
      return [name, { shape, values: Float32Array.from({ length: size }, (_, i) => n + i / 1000) }];
    }),
  );
}

describe('BigBirdWeights', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbb-weights-'));
  beforeAll(async () => {
    await useTestBackend();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the missing parameter and the source', () => {
    const given = arrays('pretraining');
    given.delete('bert/encoder/layer_0/attention/self/key/kernel');
    expect(() => BigBirdWeights.fromArrays(config, 'masked-lm', given, 'my.safetensors')).toThrow(
      /my\.safetensors.*\n.*bert\/encoder\/layer_0\/attention\/self\/key\/kernel \[8, 8\]: missing/,
    );
  });

  it('a pretraining model needs the NSP head; a MaskedLM model does not', () => {
    const given = arrays('pretraining');
    given.delete('cls/seq_relationship/output_weights');
    expect(() => BigBirdWeights.fromArrays(config, 'pretraining', given)).toThrow(/cls\/seq_relationship\/output_weights \[2, 8\]: missing/);
    const w = BigBirdWeights.fromArrays(config, 'masked-lm', given);
    expect(w.maybe('cls/seq_relationship/output_weights')).toBeUndefined();
    expect(() => w.get('cls/seq_relationship/output_weights')).toThrow(/no BigBird parameter cls\/seq_relationship\/output_weights/);
    w.dispose();
  });

  it('names both shapes on a mismatch, and refuses names that are not parameters', () => {
    const given = arrays('masked-lm');
    given.set('bert/encoder/layer_0/intermediate/dense/kernel', { shape: [12, 8], values: new Float32Array(96) });
    expect(() => BigBirdWeights.fromArrays(config, 'masked-lm', given)).toThrow(
      /intermediate\/dense\/kernel: shape \[12, 8\] in the source, the config needs \[8, 12\]/,
    );
    const extra = arrays('masked-lm');
    extra.set('bert/encoder/layer_7/output/dense/bias', { shape: [8], values: new Float32Array(8) });
    expect(() => BigBirdWeights.fromArrays(config, 'masked-lm', extra)).toThrow(/layer_7\/output\/dense\/bias: not a parameter/);
  });

  it('reads an HF safetensors file: HF names, Linear weights transposed, tied aliases skipped; toHfNamed goes back', async () => {
    const given = arrays('pretraining');
    const tensors = [...given].map(([tfName, { shape, values }]) => {
      const { hfName, transpose } = tfToHfName(tfName)!;
      const data = transpose ? transpose2d(values, shape[0], shape[1]) : values;
      return { name: hfName, dtype: 'F32' as const, shape: transpose ? [shape[1], shape[0]] : shape, data: new Uint8Array(data.buffer.slice(0)) };
    });
    const word = tensors.find((t) => t.name === 'bert.embeddings.word_embeddings.weight')!;
    tensors.push({ ...word, name: 'cls.predictions.decoder.weight' });
    const file = join(dir, 'model.safetensors');
    await writeSafetensors(file, tensors);
    const w = await loadWeightsFromSafetensors(file, config, 'pretraining');
    expect(w.unused).toEqual(['cls.predictions.decoder.weight']);
    for (const [name, { values }] of given) expect(Array.from(w.get(name).dataSync()), name).toEqual(Array.from(values));
    const back = toHfNamed(w.variables);
    for (const t of tensors.filter((x) => x.name !== 'cls.predictions.decoder.weight')) {
      expect(Array.from(back.get(t.name)!.dataSync()), t.name).toEqual(Array.from(new Float32Array(t.data.buffer)));
    }
    tf.dispose([...back.values()]);

    const missing = join(dir, 'missing.safetensors');
    await writeSafetensors(
      missing,
      tensors.filter((t) => t.name !== 'bert.encoder.layer.0.output.dense.weight'),
    );
    await expect(loadWeightsFromSafetensors(missing, config, 'pretraining')).rejects.toThrow(
      /missing\.safetensors.*\n.*bert\/encoder\/layer_0\/output\/dense\/kernel \[12, 8\]: missing/,
    );
    w.dispose();
  });

  it('two models can hold weights at once (no global variable names), and dispose frees them', () => {
    const before = tf.memory().numTensors;
    const a = new BigBirdModel({ config, weights: BigBirdWeights.fromArrays(config, 'masked-lm', arrays('masked-lm')) });
    const b = new BigBirdModel({ config, weights: BigBirdWeights.fromArrays(config, 'masked-lm', arrays('masked-lm')) });
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes the batch as int32 tensors or as host arrays with a shape, alike', () => {
    const model = new BigBirdModel({
      config: { ...config, attention_type: 'original_full' },
      weights: BigBirdWeights.fromArrays(config, 'masked-lm', arrays('masked-lm')),
    });
    const ids = Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 11);
    const mask = Int32Array.from({ length: 24 }, (_, i) => (i % 12 < 9 ? 1 : 0));
    const fromArrays = model.forward({ inputIds: ids, attentionMask: mask, shape: [2, 12] }, { hiddenStates: false });
    const idsTensor = tf.tensor2d(ids, [2, 12], 'int32');
    const maskTensor = tf.tensor2d(mask, [2, 12], 'int32');
    const fromTensors = model.forward({ inputIds: idsTensor, attentionMask: maskTensor }, { hiddenStates: false });
    expect(Array.from(fromTensors.logits!.dataSync())).toEqual(Array.from(fromArrays.logits!.dataSync()));
    expect(() => model.forward({ inputIds: ids })).toThrow(/shape \[batch, seq\] is required/);
    expect(() => model.forward({ inputIds: ids, attentionMask: mask.subarray(1), shape: [2, 12] })).toThrow(/attentionMask has 23 values, expected 24/);
    tf.dispose([fromArrays.lastHiddenState, fromArrays.logits!, fromTensors.lastHiddenState, fromTensors.logits!, idsTensor, maskTensor]);
    model.dispose();
  });

  it('dropout runs only in train mode', () => {
    const dropConfig = { ...config, hidden_dropout_prob: 0.5, attention_type: 'original_full' as const };
    const model = new BigBirdModel({ config: dropConfig, weights: BigBirdWeights.fromArrays(dropConfig, 'masked-lm', arrays('masked-lm')) });
    const batch = { inputIds: Int32Array.from({ length: 16 }, (_, i) => i % 11), shape: [1, 16] as const };
    const run = (): number[] => {
      const out = model.forward(batch, { hiddenStates: false, logits: false });
      const values = Array.from(out.lastHiddenState.dataSync());
      out.lastHiddenState.dispose();
      return values;
    };
    expect(run()).toEqual(run());
    model.train();
    expect(run()).not.toEqual(run());
    model.dispose();
  });
});
