import { describe, expect, it } from 'vitest';
import { bigBirdHfParameters, HF_BIGBIRD_TIED_PARAMETERS, hfToTfName, tfToHfName, transpose2d, transposeBytes2d } from '../../lib/convert/hf-names.js';
import { openSafetensors } from '../../lib/convert/safetensors.js';
import { type BigBirdShapeConfig, bigBirdTfVariables, type NamedShape } from '../../lib/model/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

/** KoBigBird base (spec §3.1, vocab from the tokenizer). */
const BASE: BigBirdShapeConfig = {
  vocab_size: 32500,
  hidden_size: 768,
  num_hidden_layers: 12,
  intermediate_size: 3072,
  max_position_embeddings: 4096,
  type_vocab_size: 2,
};
/** The golden-bigbird tiny config (its README). */
const TINY: BigBirdShapeConfig = {
  vocab_size: 101,
  hidden_size: 32,
  num_hidden_layers: 2,
  intermediate_size: 64,
  max_position_embeddings: 256,
  type_vocab_size: 2,
};

/** Spec §3.7, written out by hand for the base model. */
function specVariables(): NamedShape[] {
  const v = (name: string, ...shape: number[]): NamedShape => ({ name, shape });
  const out = [
    v('bert/embeddings/word_embeddings', 32500, 768),
    v('bert/embeddings/token_type_embeddings', 2, 768),
    v('bert/embeddings/position_embeddings', 4096, 768),
    v('bert/encoder/LayerNorm/beta', 768),
    v('bert/encoder/LayerNorm/gamma', 768),
  ];
  for (let n = 0; n < 12; n++) {
    const p = `bert/encoder/layer_${n}/`;
    for (const qkv of ['query', 'key', 'value']) out.push(v(`${p}attention/self/${qkv}/kernel`, 768, 768), v(`${p}attention/self/${qkv}/bias`, 768));
    out.push(
      v(`${p}attention/output/dense/kernel`, 768, 768),
      v(`${p}attention/output/dense/bias`, 768),
      v(`${p}attention/output/LayerNorm/beta`, 768),
      v(`${p}attention/output/LayerNorm/gamma`, 768),
      v(`${p}intermediate/dense/kernel`, 768, 3072),
      v(`${p}intermediate/dense/bias`, 3072),
      v(`${p}output/dense/kernel`, 3072, 768),
      v(`${p}output/dense/bias`, 768),
      v(`${p}output/LayerNorm/beta`, 768),
      v(`${p}output/LayerNorm/gamma`, 768),
    );
  }
  out.push(
    v('bert/pooler/dense/kernel', 768, 768),
    v('bert/pooler/dense/bias', 768),
    v('cls/predictions/transform/dense/kernel', 768, 768),
    v('cls/predictions/transform/dense/bias', 768),
    v('cls/predictions/transform/LayerNorm/beta', 768),
    v('cls/predictions/transform/LayerNorm/gamma', 768),
    v('cls/predictions/output_bias', 32500),
    v('cls/seq_relationship/output_weights', 2, 768),
    v('cls/seq_relationship/output_bias', 2),
  );
  return out;
}

const count = (vars: readonly NamedShape[], filter: (name: string) => boolean = () => true): number =>
  vars.filter((x) => filter(x.name)).reduce((sum, x) => sum + elementCount(x.shape), 0);

describe('bigBirdTfVariables', () => {
  it('the base model is exactly spec §3.7, in its order', () => {
    expect(bigBirdTfVariables(BASE)).toEqual(specVariables());
  });

  it('the parameter counts of spec §3.7', () => {
    const vars = bigBirdTfVariables(BASE);
    expect(count(vars)).toBe(114_380_022);
    expect(count(vars, (n) => n.startsWith('bert/encoder/layer_0/'))).toBe(7_087_872);
    expect(count(vars, (n) => n.startsWith('bert/embeddings/'))).toBe(28_107_264);
    expect(count(vars, (n) => n.startsWith('bert/'))).toBe(113_753_856);
    expect(count(vars, (n) => n.startsWith('cls/'))).toBe(626_166);
  });

  it('refuses a config with a missing or bad size', () => {
    expect(() => bigBirdTfVariables({ ...BASE, hidden_size: 0 })).toThrow(/hidden_size is 0, expected a positive integer/);
    expect(() => bigBirdTfVariables({ ...BASE, vocab_size: undefined } as unknown as BigBirdShapeConfig)).toThrow(/vocab_size is undefined/);
  });
});

describe('TF ↔ HF names', () => {
  it('every TF variable of the base model maps to HF and back to itself', () => {
    const hfNames = new Set<string>();
    for (const { name } of bigBirdTfVariables(BASE)) {
      const hf = tfToHfName(name);
      expect(hf, name).toBeDefined();
      expect(hfToTfName(hf!.hfName)).toEqual({ tfName: name, transpose: hf!.transpose });
      hfNames.add(hf!.hfName);
    }
    expect(hfNames.size).toBe(specVariables().length);
  });

  it('the table of spec §4, including the renames and which kernels are transposed', () => {
    expect(tfToHfName('bert/embeddings/word_embeddings')).toEqual({ hfName: 'bert.embeddings.word_embeddings.weight', transpose: false });
    expect(tfToHfName('bert/embeddings/position_embeddings')).toEqual({ hfName: 'bert.embeddings.position_embeddings.weight', transpose: false });
    expect(tfToHfName('bert/encoder/LayerNorm/gamma')).toEqual({ hfName: 'bert.embeddings.LayerNorm.weight', transpose: false });
    expect(tfToHfName('bert/encoder/LayerNorm/beta')).toEqual({ hfName: 'bert.embeddings.LayerNorm.bias', transpose: false });
    expect(tfToHfName('bert/encoder/layer_11/attention/self/key/kernel')).toEqual({
      hfName: 'bert.encoder.layer.11.attention.self.key.weight',
      transpose: true,
    });
    expect(tfToHfName('bert/encoder/layer_3/attention/output/LayerNorm/gamma')).toEqual({
      hfName: 'bert.encoder.layer.3.attention.output.LayerNorm.weight',
      transpose: false,
    });
    expect(tfToHfName('bert/encoder/layer_0/intermediate/dense/bias')).toEqual({ hfName: 'bert.encoder.layer.0.intermediate.dense.bias', transpose: false });
    expect(tfToHfName('bert/encoder/layer_0/output/dense/kernel')).toEqual({ hfName: 'bert.encoder.layer.0.output.dense.weight', transpose: true });
    expect(tfToHfName('bert/pooler/dense/kernel')).toEqual({ hfName: 'bert.pooler.weight', transpose: true });
    expect(tfToHfName('bert/pooler/dense/bias')).toEqual({ hfName: 'bert.pooler.bias', transpose: false });
    expect(tfToHfName('cls/predictions/transform/dense/kernel')).toEqual({ hfName: 'cls.predictions.transform.dense.weight', transpose: true });
    expect(tfToHfName('cls/predictions/transform/LayerNorm/beta')).toEqual({ hfName: 'cls.predictions.transform.LayerNorm.bias', transpose: false });
    expect(tfToHfName('cls/predictions/output_bias')).toEqual({ hfName: 'cls.predictions.bias', transpose: false });
    expect(tfToHfName('cls/seq_relationship/output_weights')).toEqual({ hfName: 'cls.seq_relationship.weight', transpose: false });
    expect(tfToHfName('cls/seq_relationship/output_bias')).toEqual({ hfName: 'cls.seq_relationship.bias', transpose: false });
  });

  it('optimizer slots, global_step and names outside the model map to undefined', () => {
    for (const name of [
      'global_step',
      'bert/embeddings/word_embeddings/adam_m',
      'bert/embeddings/word_embeddings/adam_v',
      'bert/encoder/layer_0/attention/self/query/kernel/AdamWeightDecayOptimizer',
      'bert/encoder/layer_0/attention/self/query/kernel/AdamWeightDecayOptimizer_1',
      'cls/seq_relationship/output_weights/adam_m',
      'bert/embeddings/LayerNorm/gamma', // BERT's name; KoBigBird keeps it under bert/encoder
      'bert/encoder/layer_01/output/dense/bias', // not a canonical layer number
      'bert/encoder/layer_0/output/dense',
      'bert/encoder/layer_0/attention/self/query/kernel/',
      'bert',
      '',
    ]) {
      expect(tfToHfName(name), name).toBeUndefined();
    }
  });

  it('HF names with no TF variable map to undefined: tied aliases, buffers, other heads', () => {
    for (const name of [
      ...Object.keys(HF_BIGBIRD_TIED_PARAMETERS),
      'bert.embeddings.position_ids',
      'bert.encoder.layer.01.output.dense.bias',
      'bert.encoder.layer.0.output.dense',
      'qa_classifier.weight',
      'bert.pooler.dense.weight',
    ]) {
      expect(hfToTfName(name), name).toBeUndefined();
    }
    expect(HF_BIGBIRD_TIED_PARAMETERS).toEqual({
      'cls.predictions.decoder.weight': 'bert.embeddings.word_embeddings.weight',
      'cls.predictions.decoder.bias': 'cls.predictions.bias',
    });
  });
});

describe.skipIf(!hasFixtures)('golden-bigbird model files (HF names)', () => {
  for (const [name, withNsp] of [
    ['pretraining_block_sparse_eval_s64', true],
    ['mlm_block_sparse_eval_s64', false],
  ] as const) {
    it(`${name}: every tensor maps to a TF name and back, HF shape = transposed TF kernel shape`, async () => {
      const file = await openSafetensors(fixture('golden-bigbird', name, 'model.safetensors'));
      try {
        const tfShapes = new Map(bigBirdTfVariables(TINY).map((v) => [v.name, v.shape]));
        for (const [hfName, info] of file.tensors) {
          const tf = hfToTfName(hfName);
          expect(tf, hfName).toBeDefined();
          expect(tfToHfName(tf!.tfName)).toEqual({ hfName, transpose: tf!.transpose });
          const tfShape = tfShapes.get(tf!.tfName)!;
          expect(tfShape, tf!.tfName).toBeDefined();
          expect(info.shape).toEqual(tf!.transpose ? [...tfShape].reverse() : tfShape);
        }
        // The whole file, in its order: what bigBirdHfParameters says (MaskedLM has no NSP head).
        const expected = bigBirdHfParameters(TINY).filter((p) => withNsp || !p.name.startsWith('cls.seq_relationship.'));
        expect([...file.tensors].map(([n, info]) => ({ name: n, shape: info.shape }))).toEqual(expected);
      } finally {
        await file.close();
      }
    });
  }
});

describe('transpose2d', () => {
  it('moves [rows, cols] to [cols, rows]', () => {
    // [[1, 2, 3], [4, 5, 6]] → [[1, 4], [2, 5], [3, 6]]
    expect([...transpose2d(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3)]).toEqual([1, 4, 2, 5, 3, 6]);
    expect([...transpose2d(Float32Array.of(1, 2, 3), 1, 3)]).toEqual([1, 2, 3]);
    expect(transpose2d(new Float32Array(0), 0, 5).length).toBe(0);
  });

  it('is its own inverse across tile edges, and keeps the exact bits (NaN payloads too)', () => {
    const rows = 77;
    const cols = 45;
    const data = new Float32Array(rows * cols);
    const bits = new Uint32Array(data.buffer);
    for (let i = 0; i < bits.length; i++) bits[i] = (Math.imul(i, 2654435761) >>> 0) | 0x7f800000; // NaNs and infinities with payloads
    const t = transpose2d(data, rows, cols);
    const tBits = new Uint32Array(t.buffer);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(tBits[c * rows + r]).toBe(bits[r * cols + c]);
    expect(new Uint32Array(transpose2d(t, cols, rows).buffer)).toEqual(bits);
  });

  it('on bytes: any element size, any alignment', () => {
    const rows = 3;
    const cols = 5;
    const f64 = Float64Array.from({ length: rows * cols }, (_, i) => i + 0.5);
    const t64 = new Float64Array(transposeBytes2d(new Uint8Array(f64.buffer), rows, cols, 8).buffer);
    expect([...t64]).toEqual([...transpose2d(Float32Array.from(f64), rows, cols)]);
    // Two-byte elements starting at an odd offset.
    const raw = new Uint8Array(1 + rows * cols * 2);
    for (let i = 0; i < rows * cols; i++) new DataView(raw.buffer).setUint16(1 + 2 * i, 1000 + i, true);
    const t16 = transposeBytes2d(raw.subarray(1), rows, cols, 2);
    const read16 = (i: number): number => new DataView(t16.buffer).getUint16(2 * i, true);
    expect(Array.from({ length: rows * cols }, (_, i) => read16(i))).toEqual([
      1000, 1005, 1010, 1001, 1006, 1011, 1002, 1007, 1012, 1003, 1008, 1013, 1004, 1009, 1014,
    ]);
    expect([...transposeBytes2d(Uint8Array.of(1, 2, 3, 4, 5, 6), 3, 2, 1)]).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it('refuses dimensions that do not fit the data', () => {
    expect(() => transpose2d(new Float32Array(6), 4, 2)).toThrow(/6 elements cannot be a 4×2 matrix/);
    expect(() => transposeBytes2d(new Uint8Array(7), 1, 2, 4)).toThrow(/7 bytes are not a whole number of 4-byte elements/);
  });

  it('is cheap: a 3072×768 kernel', () => {
    const data = new Float32Array(3072 * 768).map((_, i) => i);
    const start = performance.now();
    const t = transpose2d(data, 3072, 768);
    const ms = performance.now() - start;
    expect(t[1]).toBe(768);
    expect(t[3072]).toBe(1);
    // Generous: tens of milliseconds on a laptop; only a pathological (untiled, megamorphic) loop is far slower.
    expect(ms).toBeLessThan(2000);
  });
});
