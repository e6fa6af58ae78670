import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointReader, type TensorToWrite, writeCheckpoint, writeCheckpointState } from '../../lib/checkpoint/index.js';
import { exportToHuggingFace, importFromHuggingFace, openSafetensors, outputDirWithStep, writeSafetensors } from '../../lib/convert/index.js';
import { bigBirdTfVariables, hfConfigFromTf } from '../../lib/model/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { fixture, GOLDEN_BIGBIRD_CASES, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { hasPythonNumpy, INSPECT_PYTORCH_BIN, runPython, SKIP_NO_PYTHON } from '../helpers/python.js';
import { TINY_TF_CONFIG, values, writeTinyTokenizer } from './tiny-checkpoint.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-hf-export-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface TinyCheckpoint {
  readonly dir: string;
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly values: Float32Array }>;
}

/** A KoBigBird-shaped TF checkpoint folder, as training leaves it: optimizer slots, global_step, config, tokenizer. */
async function tinyCheckpoint(
  name: string,
  options: { readonly nsp?: boolean; readonly step?: number; readonly extra?: readonly TensorToWrite[]; readonly tfConfig?: object } = {},
): Promise<TinyCheckpoint> {
  const out = join(dir, name);
  mkdirSync(join(out, 'tokenizer'), { recursive: true });
  const tfConfig = { ...TINY_TF_CONFIG, ...options.tfConfig };
  const variables = bigBirdTfVariables(hfConfigFromTf(TINY_TF_CONFIG)).filter((v) => options.nsp !== false || !v.name.startsWith('cls/seq_relationship'));
  const tensors = new Map(variables.map((v) => [v.name, { shape: v.shape, values: values(v.name, elementCount(v.shape)) }]));
  const step = options.step ?? 3000;
  const toWrite: TensorToWrite[] = [];
  for (const [variable, { shape, values: data }] of tensors) {
    toWrite.push({ name: variable, dtype: 'float32', shape, data: new Uint8Array(data.buffer) });
    for (const slot of ['AdamWeightDecayOptimizer', 'AdamWeightDecayOptimizer_1'])
      toWrite.push({ name: `${variable}/${slot}`, dtype: 'float32', shape, data: new Uint8Array(elementCount(shape) * 4) });
  }
  const stepBytes = new Uint8Array(8);
  new DataView(stepBytes.buffer).setBigInt64(0, BigInt(step), true);
  toWrite.push({ name: 'global_step', dtype: 'int64', shape: [], data: stepBytes }, ...(options.extra ?? []));
  await writeCheckpoint(join(out, `model.ckpt-${step}`), toWrite);
  await writeCheckpointState(out, { modelCheckpointPath: `model.ckpt-${step}`, allModelCheckpointPaths: [`model.ckpt-${step}`] });
  writeFileSync(join(out, 'pretrain_config.json'), JSON.stringify(tfConfig, null, 4));
  writeTinyTokenizer(join(out, 'tokenizer'));
  return { dir: out, tensors };
}

/** Element [r][c] of a row-major matrix with `cols` columns. */
const at = (data: Float32Array, cols: number, r: number, c: number): number => data[r * cols + c];

describe('kbb export: TF checkpoint folder → Hugging Face folder (spec §4)', () => {
  it('writes every BigBird variable under its HF name, kernels transposed, optimizer slots and global_step left out; config and tokenizer beside them', async () => {
    const ckpt = await tinyCheckpoint('full');
    const result = await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'full-hf') });
    expect(result.plan.architecture).toBe('BigBirdForPreTraining');
    expect(result.plan.skipped.filter((s) => s.reason === 'optimizer slot')).toHaveLength(2 * ckpt.tensors.size);
    expect(result.plan.skipped.find((s) => s.name === 'global_step')?.reason).toBe('training step counter');

    const file = await openSafetensors(join(dir, 'full-hf', 'model.safetensors'));
    try {
      expect(file.metadata).toEqual({ format: 'pt' });
      expect(file.tensors.size).toBe(ckpt.tensors.size);
      expect(file.tensors.has('cls.predictions.decoder.weight')).toBe(false);
      const read = async (name: string): Promise<Float32Array> => new Float32Array((await file.read(name)).buffer);
      // A kernel is [in, out] in TF and [out, in] in HF.
      const kernel = ckpt.tensors.get('bert/encoder/layer_1/intermediate/dense/kernel')!;
      expect(file.tensors.get('bert.encoder.layer.1.intermediate.dense.weight')!.shape).toEqual([12, 8]);
      const weight = await read('bert.encoder.layer.1.intermediate.dense.weight');
      for (let i = 0; i < 8; i++) for (let o = 0; o < 12; o++) expect(at(weight, 8, o, i)).toBe(at(kernel.values, 12, i, o));
      // The NSP head's output_weights is already [out, in]; embeddings are not transposed either.
      expect(await read('cls.seq_relationship.weight')).toEqual(ckpt.tensors.get('cls/seq_relationship/output_weights')!.values);
      expect(await read('bert.embeddings.word_embeddings.weight')).toEqual(ckpt.tensors.get('bert/embeddings/word_embeddings')!.values);
      expect(await read('bert.embeddings.LayerNorm.weight')).toEqual(ckpt.tensors.get('bert/encoder/LayerNorm/gamma')!.values);
      expect(await read('cls.predictions.bias')).toEqual(ckpt.tensors.get('cls/predictions/output_bias')!.values);
      expect(await read('bert.pooler.weight')).toEqual(
        new Float32Array(8 * 8).map((_, k) => at(ckpt.tensors.get('bert/pooler/dense/kernel')!.values, 8, k % 8, Math.floor(k / 8))),
      );
    } finally {
      await file.close();
    }

    const config = JSON.parse(readFileSync(join(dir, 'full-hf', 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['BigBirdForPreTraining'],
      model_type: 'big_bird',
      hidden_act: 'gelu_new',
      num_random_blocks: 2,
      rescale_embeddings: false,
      gradient_checkpointing: false,
      torch_dtype: 'float32',
      tokenizer_class: 'BertTokenizer',
      position_embedding_type: 'absolute',
      layer_norm_eps: 1e-12,
      vocab_size: 10,
    });
    expect(readdirSync(join(dir, 'full-hf')).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    // model_max_length follows max_position_embeddings, as the converter sets it.
    expect(JSON.parse(readFileSync(join(dir, 'full-hf', 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(32);
    expect(result.files.at(-1)).toBe(join(dir, 'full-hf', 'config.json'));
  });

  it('a checkpoint without the NSP head exports as BigBirdForMaskedLM', async () => {
    const ckpt = await tinyCheckpoint('mlm', { nsp: false });
    const result = await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'mlm-hf'), tokenizerDir: null });
    expect(result.plan.architecture).toBe('BigBirdForMaskedLM');
    expect(JSON.parse(readFileSync(join(dir, 'mlm-hf', 'config.json'), 'utf8')).architectures).toEqual(['BigBirdForMaskedLM']);
    expect(readdirSync(join(dir, 'mlm-hf')).sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('--step_on_output names the folder as the converter does for whole thousands, and in full otherwise', async () => {
    const thousands = await tinyCheckpoint('step-600k', { step: 600000 });
    expect(await outputDirWithStep('out/kobigbird', thousands.dir)).toBe('out/kobigbird-600k');
    const odd = await tinyCheckpoint('step-1500', { step: 1500 });
    expect(await outputDirWithStep('out/kobigbird', odd.dir)).toBe('out/kobigbird-1500');
    const result = await exportToHuggingFace({ checkpointDir: thousands.dir, outputDir: join(dir, 'stepped'), stepOnOutput: true, tokenizerDir: null });
    expect(result.outputDir).toBe(join(dir, 'stepped-600k'));
    expect(existsSync(join(dir, 'stepped-600k', 'model.safetensors'))).toBe(true);
  });

  it('refuses, before writing anything, a config that disagrees with the checkpoint, a missing weight and an unknown model variable', async () => {
    const ckpt = await tinyCheckpoint('mismatch', { tfConfig: { vocab_size: 11 } });
    await expect(exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'mismatch-hf') })).rejects.toThrow(
      /bert\/embeddings\/word_embeddings: checkpoint has \[10, 8\], the config needs \[11, 8\]/,
    );
    expect(existsSync(join(dir, 'mismatch-hf'))).toBe(false);

    const extra = await tinyCheckpoint('extra', {
      extra: [{ name: 'bert/encoder/layer_0/attention/self/query/prenorm/gamma', dtype: 'float32', shape: [8], data: new Uint8Array(32) }],
    });
    await expect(exportToHuggingFace({ checkpointDir: extra.dir, outputDir: join(dir, 'extra-hf') })).rejects.toThrow(
      /layer_0\/attention\/self\/query\/prenorm\/gamma \[8\]: not a variable of KoBigBird's BigBird/,
    );

    // A checkpoint that lost a layer's output LayerNorm: the reference would keep random values.
    const out = join(dir, 'missing');
    mkdirSync(out, { recursive: true });
    const reader = await CheckpointReader.open(join(ckpt.dir, 'model.ckpt-3000'));
    const kept = reader.variables.filter((v) => !v.name.startsWith('bert/encoder/layer_1/output/LayerNorm/'));
    await writeCheckpoint(
      join(out, 'model.ckpt-1'),
      kept.map((v) => ({ name: v.name, dtype: v.dtype as TensorToWrite['dtype'], shape: v.shape, data: () => reader.readBytes(v.name) })),
    );
    await reader.close();
    await writeCheckpointState(out, { modelCheckpointPath: 'model.ckpt-1', allModelCheckpointPaths: [] });
    await expect(
      exportToHuggingFace({ checkpointDir: out, outputDir: join(dir, 'missing-hf'), bigBirdConfigFile: join(extra.dir, 'pretrain_config.json') }),
    ).rejects.toThrow(/2 problem\(s\):\n {2}bert\/encoder\/layer_1\/output\/LayerNorm\/beta \[8\]: missing/);
  });

  it('refuses to write over a model already in the output folder unless told to', async () => {
    const ckpt = await tinyCheckpoint('again');
    await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'again-hf'), tokenizerDir: null });
    await expect(exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'again-hf'), tokenizerDir: null })).rejects.toThrow(
      /already holds config\.json, model\.safetensors; pass --overwrite/,
    );
    const result = await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'again-hf'), tokenizerDir: null, overwrite: true });
    expect(result.files).toHaveLength(2);
    expect(readdirSync(join(dir, 'again-hf')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('an explicit --tokenizer_dir that is not one is an error; the default one missing is a note', async () => {
    const ckpt = await tinyCheckpoint('tok');
    await expect(exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'tok-hf'), tokenizerDir: join(dir, 'nowhere') })).rejects.toThrow(
      /nowhere: no vocab\.txt or tokenizer\.json/,
    );
    await rm(join(ckpt.dir, 'tokenizer'), { recursive: true });
    const result = await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'tok-hf') });
    expect(result.notes[0]).toMatch(/no tokenizer folder at .*tok\/tokenizer/);
  });
});

describe.skipIf(!hasPythonNumpy)(`kbb export --pytorch_bin (read back with Python's zipfile and a weights_only-style unpickler)`, () => {
  it("holds the same tensors as model.safetensors, plus the tied aliases sharing their targets' storage", async () => {
    const ckpt = await tinyCheckpoint('bin');
    const result = await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'bin-hf'), tokenizerDir: null, pytorchBin: true });
    expect(result.files.map((f) => f.slice(join(dir, 'bin-hf').length + 1))).toEqual(['model.safetensors', 'pytorch_model.bin', 'config.json']);
    const inspection = JSON.parse(runPython([INSPECT_PYTORCH_BIN, join(dir, 'bin-hf', 'pytorch_model.bin')])) as {
      tensors: { name: string; dtype: string; shape: number[]; storageKey: string; sha256: string }[];
    };
    const byName = new Map(inspection.tensors.map((t) => [t.name, t]));
    const file = await openSafetensors(join(dir, 'bin-hf', 'model.safetensors'));
    try {
      expect(byName.size).toBe(file.tensors.size + 2);
      for (const [name, info] of file.tensors) {
        const tensor = byName.get(name)!;
        expect([tensor.dtype, tensor.shape, tensor.sha256], name).toEqual([
          'F32',
          info.shape,
          createHash('sha256')
            .update(await file.read(name))
            .digest('hex'),
        ]);
      }
    } finally {
      await file.close();
    }
    expect(byName.get('cls.predictions.decoder.weight')!.storageKey).toBe(byName.get('bert.embeddings.word_embeddings.weight')!.storageKey);
    expect(byName.get('cls.predictions.decoder.bias')!.storageKey).toBe(byName.get('cls.predictions.bias')!.storageKey);
    expect(new Set(inspection.tensors.map((t) => t.storageKey)).size).toBe(ckpt.tensors.size);
  });
});
if (!hasPythonNumpy) it.skip(`export --pytorch_bin: ${SKIP_NO_PYTHON}`, () => {});

describe('kbb import-hf: Hugging Face folder → TF checkpoint folder', () => {
  it('exports and imports back to the same TF variables, byte for byte, with global_step and a pretrain_config.json export reads', async () => {
    const ckpt = await tinyCheckpoint('roundtrip', { step: 2000 });
    await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: join(dir, 'roundtrip-hf') });
    const back = await importFromHuggingFace({ hfDir: join(dir, 'roundtrip-hf'), outputDir: join(dir, 'roundtrip-tf'), step: 2000 });
    expect(back.plan.absent).toEqual([]);
    const reader = await CheckpointReader.open(back.checkpointPrefix);
    try {
      expect(reader.variables.map((v) => v.name).sort()).toEqual([...ckpt.tensors.keys(), 'global_step'].sort());
      for (const [name, { shape, values: data }] of ckpt.tensors) {
        expect(reader.variable(name).shape).toEqual(shape);
        expect(Buffer.from(await reader.readBytes(name)).equals(Buffer.from(data.buffer)), name).toBe(true);
      }
      expect((await reader.read('global_step')).values).toEqual(new BigInt64Array([2000n]));
    } finally {
      await reader.close();
    }
    expect(readFileSync(join(dir, 'roundtrip-tf', 'checkpoint'), 'utf8')).toBe(
      'model_checkpoint_path: "model.ckpt-2000"\nall_model_checkpoint_paths: "model.ckpt-2000"\n',
    );
    const tfConfig = JSON.parse(readFileSync(join(dir, 'roundtrip-tf', 'pretrain_config.json'), 'utf8'));
    expect(tfConfig).toMatchObject(TINY_TF_CONFIG);
    expect(readdirSync(join(dir, 'roundtrip-tf', 'tokenizer')).sort()).toEqual([
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
  });

  it('refuses tied aliases that are not the same values, and parameters of another architecture', async () => {
    const hfDir = join(dir, 'untied');
    mkdirSync(hfDir, { recursive: true });
    const ckpt = await tinyCheckpoint('untied-src');
    await exportToHuggingFace({ checkpointDir: ckpt.dir, outputDir: hfDir, tokenizerDir: null, overwrite: true });
    const file = await openSafetensors(join(hfDir, 'model.safetensors'));
    const sources = await Promise.all(
      [...file.tensors].map(async ([name, info]) => ({ name, dtype: info.dtype, shape: info.shape, data: await file.read(name) })),
    );
    await file.close();
    const embeddings = sources.find((s) => s.name === 'bert.embeddings.word_embeddings.weight')!;
    await writeSafetensors(join(hfDir, 'model.safetensors'), [
      ...sources,
      { ...embeddings, name: 'cls.predictions.decoder.weight', data: embeddings.data.map((b, i) => (i === 0 ? b ^ 1 : b)) },
    ]);
    await expect(importFromHuggingFace({ hfDir, outputDir: join(dir, 'untied-tf') })).rejects.toThrow(
      /cls\.predictions\.decoder\.weight differs from bert\.embeddings\.word_embeddings\.weight/,
    );

    await writeSafetensors(join(hfDir, 'model.safetensors'), [
      ...sources,
      { ...embeddings, name: 'cls.predictions.decoder.weight' },
      { name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, 32], data: new Uint8Array(256) },
    ]);
    const ok = await importFromHuggingFace({ hfDir, outputDir: join(dir, 'untied-tf') });
    expect(ok.plan.skipped.map((s) => s.reason)).toEqual(
      expect.arrayContaining(['tied to bert.embeddings.word_embeddings.weight', 'buffer (arange), not a weight']),
    );

    await writeSafetensors(join(hfDir, 'model.safetensors'), [
      ...sources,
      { name: 'bert.encoder.layer.0.attention.self.rotary.weight', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
    ]);
    await expect(importFromHuggingFace({ hfDir, outputDir: join(dir, 'untied-tf'), overwrite: true })).rejects.toThrow(
      /rotary\.weight \[2\]: not a parameter of KoBigBird's BigBird/,
    );
  });
});

describe.skipIf(!hasFixtures)('the golden Hugging Face weights (../shared/fixtures/golden-bigbird) go HF → TF → HF unchanged', () => {
  it.each(GOLDEN_BIGBIRD_CASES)('%s', async (name) => {
    const hfDir = fixture('golden-bigbird', name);
    const tfDir = join(dir, `golden-${name}-tf`);
    const imported = await importFromHuggingFace({ hfDir, outputDir: tfDir });
    const golden = await openSafetensors(join(hfDir, 'model.safetensors'));
    try {
      // Every HF parameter became a TF variable of spec §3.7's name; a MaskedLM model has no NSP head.
      const reader = await CheckpointReader.open(imported.checkpointPrefix);
      const expected = bigBirdTfVariables(hfConfigFromTf(JSON.parse(readFileSync(join(tfDir, 'pretrain_config.json'), 'utf8'))));
      const nsp = golden.tensors.has('cls.seq_relationship.weight');
      expect(reader.variables.map((v) => v.name).sort()).toEqual(
        [...expected.filter((v) => nsp || !v.name.startsWith('cls/seq_relationship')).map((v) => v.name), 'global_step'].sort(),
      );
      for (const v of expected) if (reader.has(v.name)) expect(reader.variable(v.name).shape, v.name).toEqual(v.shape);
      await reader.close();

      const exported = await exportToHuggingFace({ checkpointDir: tfDir, outputDir: join(dir, `golden-${name}-hf`) });
      expect(exported.plan.architecture).toBe(nsp ? 'BigBirdForPreTraining' : 'BigBirdForMaskedLM');
      const again = await openSafetensors(join(dir, `golden-${name}-hf`, 'model.safetensors'));
      try {
        expect([...again.tensors].map(([n, i]) => [n, i.dtype, i.shape])).toEqual([...golden.tensors].map(([n, i]) => [n, i.dtype, i.shape]));
        for (const tensor of golden.tensors.keys())
          expect(Buffer.from(await again.read(tensor)).equals(Buffer.from(await golden.read(tensor))), tensor).toBe(true);
      } finally {
        await again.close();
      }
      // Same layout, same header: the whole file comes back byte for byte.
      expect(readFileSync(join(dir, `golden-${name}-hf`, 'model.safetensors')).equals(readFileSync(join(hfDir, 'model.safetensors')))).toBe(true);
      const config = JSON.parse(readFileSync(join(dir, `golden-${name}-hf`, 'config.json'), 'utf8'));
      const goldenConfig = JSON.parse(readFileSync(join(hfDir, 'config.json'), 'utf8'));
      for (const key of [
        'vocab_size',
        'hidden_size',
        'num_hidden_layers',
        'num_attention_heads',
        'intermediate_size',
        'max_position_embeddings',
        'type_vocab_size',
        'block_size',
        'num_random_blocks',
        'attention_type',
        'hidden_act',
        'use_bias',
        'rescale_embeddings',
        'pad_token_id',
        'bos_token_id',
        'eos_token_id',
        'sep_token_id',
        'layer_norm_eps',
      ]) {
        expect(config[key], key).toEqual(goldenConfig[key]);
      }
    } finally {
      await golden.close();
    }
  });
});

if (!hasFixtures) it.skip(`golden HF → TF → HF round trip: ${SKIP_NO_FIXTURES}`, () => {});
