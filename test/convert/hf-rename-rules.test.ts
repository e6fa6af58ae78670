import { describe, expect, it } from 'vitest';
import { tfToHfName } from '../../lib/convert/hf-names.js';
import { hfRenameRules } from '../../lib/convert/hf-rename-rules.js';
import { type BigBirdShapeConfig, bigBirdTfVariables } from '../../lib/model/index.js';

const TINY: BigBirdShapeConfig = {
  vocab_size: 101,
  hidden_size: 32,
  num_hidden_layers: 3,
  intermediate_size: 64,
  max_position_embeddings: 256,
  type_vocab_size: 2,
};

describe('hfRenameRules', () => {
  const variables = bigBirdTfVariables(TINY);

  it('explains every BigBird variable, and says "transposed" exactly where tfToHfName transposes', () => {
    for (const { name } of variables) {
      const rules = hfRenameRules(name);
      expect(rules, name).toBeDefined();
      expect(rules!.length, name).toBeGreaterThan(0);
      const saysTransposed = rules!.some((rule) => rule.endsWith('(transposed)'));
      expect(saysTransposed, name).toBe(tfToHfName(name)!.transpose);
    }
  });

  it('names the layer rule for encoder layers only, and the leaf rule by the last path element', () => {
    for (const { name } of variables) {
      const rules = hfRenameRules(name)!;
      expect(rules.includes('layer_N → layer.N'), name).toBe(/^bert\/encoder\/layer_\d+\//.test(name));
      if (name.endsWith('/gamma')) expect(rules, name).toContain('gamma → weight');
      if (name.endsWith('/beta')) expect(rules, name).toContain('beta → bias');
      if (name.endsWith('_embeddings')) expect(rules, name).toContain('+ .weight');
    }
  });

  it('explains the converter’s special cases', () => {
    expect(hfRenameRules('bert/encoder/LayerNorm/gamma')).toEqual(['encoder LayerNorm → embeddings', 'gamma → weight']);
    expect(hfRenameRules('bert/pooler/dense/kernel')).toEqual(['pooler/dense → pooler', 'kernel → weight (transposed)']);
    expect(hfRenameRules('cls/seq_relationship/output_weights')).toEqual(['output_weights → weight (not transposed)']);
    expect(hfRenameRules('cls/seq_relationship/output_bias')).toEqual(['output_bias → bias']);
    expect(hfRenameRules('cls/predictions/output_bias')).toEqual(["output_bias → bias (the decoder's, tied)"]);
    expect(hfRenameRules('bert/encoder/layer_2/attention/self/query/bias')).toEqual(['layer_N → layer.N']);
    expect(hfRenameRules('cls/predictions/transform/dense/bias')).toEqual(['/ → .']);
  });

  it('has no rule for what is not exported', () => {
    for (const name of [
      'global_step',
      'bert/encoder/layer_0/attention/self/query/kernel/adam_m',
      'bert/embeddings/word_embeddings/adam_v',
      'bert/embeddings/LayerNorm/gamma',
      'bert/encoder/layer_01/output/dense/bias',
      'cls/predictions/decoder/weight',
    ]) {
      expect(hfRenameRules(name), name).toBeUndefined();
    }
  });
});
