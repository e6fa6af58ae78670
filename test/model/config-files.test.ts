import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHfConfigJson } from '../../lib/convert/hf-config-json.js';
import { hfConfigFromJson, hfConfigFromTf, readBigBirdConfig } from '../../lib/model/config-files.js';
import { pythonFloatRepr } from '../../lib/text/python-json.js';
import { fixture, GOLDEN_BIGBIRD_CASES, hasFixtures } from '../helpers/fixtures.js';
import { PUBLISHED_KOBIGBIRD_CONFIG } from '../helpers/published-config.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-hf-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * KoBigBird's `pretrain_config.json` for the base script (spec §3.1): every flag, the base script's
 * values where it sets them, and the tokenizer-derived ids. Keys sorted, as the reference writes them.
 */
const BASE_PRETRAIN_CONFIG = {
  attention_probs_dropout_prob: 0.1,
  attention_type: 'block_sparse',
  block_size: 64,
  bos_token_id: 5,
  cls_token_id: 2,
  do_eval: false,
  do_train: true,
  eos_token_id: 6,
  eval_batch_size: 4,
  gcp_project: null,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  iterations_per_loop: 200,
  keep_checkpoint_max: 5,
  learning_rate: 0.0001,
  mask_token_id: 4,
  masked_lm_prob: 0.15,
  master: null,
  max_encoder_length: 4096,
  max_eval_steps: 100,
  max_position_embeddings: 4096,
  max_predictions_per_seq: 640,
  norm_type: 'postnorm',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  num_rand_blocks: 3,
  num_tpu_cores: 8,
  num_train_steps: 2000000,
  num_warmup_steps: 20000,
  optimizer: 'AdamWeightDecay',
  optimizer_beta1: 0.9,
  optimizer_beta2: 0.999,
  optimizer_epsilon: 1e-6,
  pad_token_id: 0,
  random_pos_emb: true,
  rescale_embedding: false,
  scope: 'bert',
  seed: 42,
  sep_token_id: 3,
  tokenizer_dir: 'tokenizer',
  tpu_job_name: null,
  tpu_name: null,
  tpu_zone: null,
  train_batch_size: 4,
  type_vocab_size: 2,
  unk_token_id: 1,
  use_bias: true,
  use_gradient_checkpointing: false,
  use_nsp: false,
  use_token_type: true,
  use_tpu: true,
  vocab_size: 32500,
  weight_decay_rate: 0.01,
};

const GOLDEN_CASES = GOLDEN_BIGBIRD_CASES;

describe('hfConfigFromTf: the converter on a pretrain_config.json (spec §4)', () => {
  it('gives the published KoBigBird config, every field and nothing else', () => {
    const config = hfConfigFromTf(BASE_PRETRAIN_CONFIG);
    expect(config).toEqual(PUBLISHED_KOBIGBIRD_CONFIG);
    expect(Object.keys(config)).toEqual(Object.keys(PUBLISHED_KOBIGBIRD_CONFIG)); // sorted, as HF writes them
  });

  it('applies the renames, copies values rather than defaults, and never copies hidden_act', () => {
    const config = hfConfigFromTf({
      ...BASE_PRETRAIN_CONFIG,
      use_gradient_checkpointing: true,
      num_rand_blocks: 2,
      rescale_embedding: true,
      hidden_act: 'relu',
      attention_type: 'original_full',
      hidden_dropout_prob: 0,
      block_size: 16,
    });
    expect(config).toMatchObject({
      gradient_checkpointing: true,
      num_random_blocks: 2,
      rescale_embeddings: true,
      hidden_act: 'gelu_new',
      attention_type: 'original_full',
      hidden_dropout_prob: 0,
      block_size: 16,
    });
    for (const tfOnly of ['use_gradient_checkpointing', 'num_rand_blocks', 'rescale_embedding', 'norm_type', 'max_encoder_length', 'cls_token_id']) {
      expect(config).not.toHaveProperty(tfOnly);
    }
  });

  it('options: architectures and transformers_version', () => {
    expect(hfConfigFromTf(BASE_PRETRAIN_CONFIG, { architectures: ['BigBirdForMaskedLM'], transformersVersion: '4.44.2' })).toMatchObject({
      architectures: ['BigBirdForMaskedLM'],
      transformers_version: '4.44.2',
    });
  });

  it('names what is missing or wrong', () => {
    const { num_rand_blocks: _, ...missing } = BASE_PRETRAIN_CONFIG;
    expect(() => hfConfigFromTf(missing)).toThrow(/pretrain_config\.json: missing "num_rand_blocks" \(the converter copies it to "num_random_blocks"\)/);
    expect(() => hfConfigFromTf({ ...BASE_PRETRAIN_CONFIG, hidden_size: '768' })).toThrow(/hidden_size "768" is not an integer/);
    expect(() => hfConfigFromTf({ ...BASE_PRETRAIN_CONFIG, use_bias: 1 })).toThrow(/use_bias 1 is not true or false/);
    expect(() => hfConfigFromTf({ ...BASE_PRETRAIN_CONFIG, attention_type: 'simulated_sparse' })).toThrow(
      /attention_type "simulated_sparse" is not one of block_sparse, original_full/,
    );
    expect(() => hfConfigFromTf({ ...BASE_PRETRAIN_CONFIG, num_attention_heads: 5 })).toThrow(/hidden_size 768 is not a multiple of num_attention_heads 5/);
  });

  it('the published config as HF would write it', () => {
    const text = formatHfConfigJson(hfConfigFromTf(BASE_PRETRAIN_CONFIG));
    expect(text.startsWith('{\n  "architectures": [\n    "BigBirdForPreTraining"\n  ],\n  "attention_probs_dropout_prob": 0.1,\n')).toBe(true);
    expect(text).toContain('\n  "classifier_dropout": null,\n');
    expect(text).toContain('\n  "layer_norm_eps": 1e-12,\n');
    expect(text.endsWith('  "vocab_size": 32500\n}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(PUBLISHED_KOBIGBIRD_CONFIG);
  });
});

describe('readBigBirdConfig', () => {
  it('reads a pretrain_config.json (json indent 4, as the reference writes it)', async () => {
    const path = join(dir, 'pretrain_config.json');
    writeFileSync(path, JSON.stringify(BASE_PRETRAIN_CONFIG, null, 4));
    expect(await readBigBirdConfig(path)).toEqual(PUBLISHED_KOBIGBIRD_CONFIG);
  });

  it('reads an HF config.json, filling HF defaults for what it leaves out', async () => {
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ model_type: 'big_bird', vocab_size: 32500, extra_field: 1 }));
    const config = await readBigBirdConfig(path);
    expect(config).toMatchObject({
      vocab_size: 32500,
      hidden_size: 768,
      sep_token_id: 66,
      bos_token_id: 1,
      position_embedding_type: 'absolute',
      hidden_act: 'gelu_new',
      classifier_dropout: null,
    });
    expect(config).not.toHaveProperty('extra_field');
    expect(config).not.toHaveProperty('architectures');
  });

  it('round-trips the published config through config.json', async () => {
    const path = join(dir, 'published.json');
    writeFileSync(path, formatHfConfigJson(PUBLISHED_KOBIGBIRD_CONFIG));
    expect(await readBigBirdConfig(path)).toEqual(PUBLISHED_KOBIGBIRD_CONFIG);
  });

  it('names the file and what is wrong', async () => {
    const write = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    await expect(readBigBirdConfig(write('bad.json', '{"model_type": '))).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(readBigBirdConfig(write('list.json', '[]'))).rejects.toThrow(/list\.json: not a JSON object/);
    await expect(readBigBirdConfig(write('bert.json', '{"model_type": "bert"}'))).rejects.toThrow(/bert\.json: model_type is "bert", expected "big_bird"/);
    await expect(readBigBirdConfig(write('neither.json', '{"hidden_size": 768}'))).rejects.toThrow(
      /neither\.json: neither an HF config\.json .* nor a KoBigBird pretrain_config\.json/,
    );
    await expect(readBigBirdConfig(write('type.json', '{"model_type": "big_bird", "block_size": 6.5}'))).rejects.toThrow(
      /type\.json: block_size 6\.5 is not an integer/,
    );
    await expect(readBigBirdConfig(write('tf.json', JSON.stringify({ ...BASE_PRETRAIN_CONFIG, vocab_size: undefined })))).rejects.toThrow(
      /tf\.json: missing "vocab_size"/,
    );
  });
});

describe.skipIf(!hasFixtures)('golden-bigbird config.json (written by HF 4.44.2 save_pretrained)', () => {
  for (const name of GOLDEN_CASES) {
    it(`${name}: read, and formatHfConfigJson gives the file byte for byte`, async () => {
      const path = fixture('golden-bigbird', name, 'config.json');
      const text = readFileSync(path, 'utf8');
      const json = JSON.parse(text) as Record<string, unknown>;
      expect(formatHfConfigJson(json)).toBe(text);

      const config = await readBigBirdConfig(path);
      // Everything the file has, as it has it; HF defaults only for what it lacks.
      expect(config).toMatchObject(json);
      expect(config).toMatchObject({
        vocab_size: 101,
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 64,
        block_size: 4,
        num_random_blocks: 2,
        position_embedding_type: 'absolute',
      });
      expect(Object.keys(json).filter((k) => !(k in config))).toEqual([]);
      // The golden files lack only what KoBigBird's converter adds on top of BigBirdConfig.
      expect(Object.keys(PUBLISHED_KOBIGBIRD_CONFIG).filter((k) => !(k in json))).toEqual([
        'gradient_checkpointing',
        'position_embedding_type',
        'tokenizer_class',
        'torch_dtype',
      ]);
      expect(formatHfConfigJson({ ...config, position_embedding_type: undefined })).toBe(text);
    });
  }

  it('the train case writes its zero dropouts as Python floats (0.0)', () => {
    const text = readFileSync(fixture('golden-bigbird', 'mlm_block_sparse_train_s64', 'config.json'), 'utf8');
    expect(text).toContain('"hidden_dropout_prob": 0.0,');
    expect(formatHfConfigJson(hfConfigFromJson(JSON.parse(text) as Record<string, unknown>))).toContain('"hidden_dropout_prob": 0.0,');
  });
});

describe('formatHfConfigJson: Python json.dumps details', () => {
  it('floats as Python repr writes them', () => {
    const cases: [number, string][] = [
      [0, '0.0'],
      [-0, '-0.0'],
      [1e-12, '1e-12'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [123456789012345680, '1.2345678901234568e+17'],
      [0.1, '0.1'],
      [0.02, '0.02'],
      [1.5e-7, '1.5e-07'],
      [-2.5, '-2.5'],
      [1234.5, '1234.5'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [value, python] of cases) expect(pythonFloatRepr(value), String(value)).toBe(python);
  });

  it('ensure_ascii escapes, sorted keys, empty containers, integers in non-float fields', () => {
    expect(formatHfConfigJson({ b: '\u007fé😀\u0001\n', a: [], c: {}, hidden_size: 768, layer_norm_eps: 1, id2label: { '0': 'x' } })).toBe(
      '{\n  "a": [],\n  "b": "\\u007f\\u00e9\\ud83d\\ude00\\u0001\\n",\n  "c": {},\n  "hidden_size": 768,\n  "id2label": {\n    "0": "x"\n  },\n  "layer_norm_eps": 1.0\n}\n',
    );
  });
});
