import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointReader } from '../lib/checkpoint/index.js';
import { buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../lib/pretraining/index.js';
import { readTfRecords } from '../lib/tfrecord/index.js';
import { fixture, hasFixtures, projectRoot } from './helpers/fixtures.js';

/** Runs the real `kbb` entry point (bin/kbb.js), as `npx kbb` does. */
function kbb(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(projectRoot, 'bin', 'kbb.js'), ...args], { encoding: 'utf8', cwd: projectRoot });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the kbb command line', () => {
  it('--help lists the commands', () => {
    const { status, stdout } = kbb('--help');
    expect(status).toBe(0);
    for (const command of ['tokenize', 'corpus', 'demo']) expect(stdout).toContain(command);
  });

  it('--version prints the version package.json holds', () => {
    const { status, stdout } = kbb('--version');
    expect(status).toBe(0);
    expect(stdout.trim()).toBe(JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).version);
  });

  it('<command> --help explains a command and its options', () => {
    const { status, stdout } = kbb('tokenize', '--help');
    expect(status).toBe(0);
    expect(stdout).toContain('--tokenizer_dir');
  });

  it('an unknown command fails with a non-zero status and says why', () => {
    const { status, stderr } = kbb('no-such-command');
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/unknown command/);
  });

  it('tokenize prints tokens and ids with the shipped sample vocabulary', () => {
    const { status, stdout } = kbb('tokenize', '--json', '도서관에서', '책을', '[MASK]');
    expect(status).toBe(0);
    const analysis = JSON.parse(stdout) as { tokens: string[]; ids: number[]; wordIds: number[] };
    expect(analysis.tokens.at(-1)).toBe('[MASK]');
    expect(analysis.ids.at(-1)).toBe(4);
    expect(analysis.tokens.join(' ').replace(/ ##/g, '')).toBe('도서관에서 책을 [MASK]');
    const plain = kbb('tokenize', '도서관에서 책을');
    expect(plain.stdout).toMatch(/^tokens/m);
    expect(plain.stdout).toMatch(/^ids/m);
  });

  it('backend says what the model runs on, with the thread count asked for and a matmul speed', () => {
    const { status, stdout } = kbb('backend', '--json', '--wasm_threads', '2', '--native_threads', '2');
    expect(status).toBe(0);
    const report = JSON.parse(stdout) as {
      backend: string;
      wasm?: { simd: boolean; threads: number };
      native?: { onnxRuntimeVersion: string; threads: number };
      matmul: { shape: number[]; milliseconds: number; gflops: number };
    };
    if (report.backend === 'wasm') expect(report.wasm).toEqual({ simd: true, threads: 2 });
    if (report.backend === 'native') expect(report.native?.threads).toBe(2);
    expect(report.matmul.shape).toEqual([1024, 768, 768]);
    expect(report.matmul.gflops).toBeCloseTo((2 * 1024 * 768 * 768) / (report.matmul.milliseconds * 1e6), 6);
    expect(Number.isFinite(report.matmul.gflops) && report.matmul.gflops > 0).toBe(true);
    const plain = kbb('backend', '--prefer', 'cpu');
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^TensorFlow\.js backend: cpu \(@tensorflow\/tfjs-backend-cpu\)$/m);
    expect(plain.stdout).toMatch(/^matmul \[1024×768\]·\[768×768\]: [\d.]+ GFLOP\/s/m);
    const bad = kbb('backend', '--prefer', 'gpu');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--prefer gpu is not one of tensorflow, native, wasm, cpu');
  });

  it('a missing tokenizer folder is a clear error naming it', () => {
    const { status, stderr } = kbb('tokenize', '--tokenizer_dir', '/nonexistent/tok', 'x');
    expect(status).toBe(1);
    expect(stderr).toContain('/nonexistent/tok');
  });

  it('corpus stats counts the shipped sample corpus, and the counts match a direct reading', () => {
    const { status, stdout } = kbb('corpus', 'stats', '--json', 'data/sample-corpus');
    expect(status).toBe(0);
    const stats = JSON.parse(stdout) as { totals: { files: number; documents: number; sentences: number; bytes: number } };
    const texts = ['essays.txt', 'everyday.txt', 'science-notes.txt'].map((f) => readFileSync(join(projectRoot, 'data', 'sample-corpus', f), 'utf8'));
    // Independent count from the raw text: documents are separated by exactly one empty line.
    expect(stats.totals).toMatchObject({
      files: 3,
      documents: texts.reduce((n, t) => n + t.trimEnd().split('\n\n').length, 0),
      sentences: texts.reduce((n, t) => n + t.split('\n').filter((l) => l.trim() !== '').length, 0),
      bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0),
    });
  });

  it('corpus stats on a folder without corpus files fails and names it', () => {
    const { status, stderr } = kbb('corpus', 'stats', 'repl');
    expect(status).toBe(1);
    expect(stderr).toMatch(/repl: no corpus files found/);
  });

  it('demo (npm start) builds TFRecords, trains a tiny BigBird whose loss falls, and exports it, on a clone without ../shared', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kbb-demo-'));
    try {
      const { status, stdout, stderr } = kbb('demo', '--output_dir', out);
      expect(status, stderr).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'tfrecords', 'build_manifest.json'), 'utf8'));
      expect(stdout).toContain(`wrote     ${manifest.totals.examples} examples into`);
      expect(manifest.totals.examples).toBeGreaterThan(50);
      let records = 0;
      for (const shard of manifest.shards) for await (const _ of readTfRecords(join(out, 'tfrecords', shard.file))) records++;
      expect(records).toBe(manifest.totals.examples);
      const [, first, last] = /trained +120 steps of 8 examples: loss ([\d.]+) → ([\d.]+)/.exec(stdout) ?? [];
      expect(Number(last)).toBeLessThan(0.9 * Number(first));
      expect(readdirSync(join(out, 'hf')).sort()).toEqual([
        'config.json',
        'model.safetensors',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'vocab.txt',
      ]);
      // Run again: everything is replaced, nothing resumed, the same numbers.
      const again = kbb('demo', '--output_dir', out);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toContain(`loss ${first} → ${last}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('build-tfrecord takes the reference flags, writes shards and a manifest, and refuses to overwrite without --overwrite', () => {
    const out = mkdtempSync(join(tmpdir(), 'kbb-cli-build-'));
    try {
      const args = [
        'build-tfrecord',
        '--input_dir',
        'data/sample-corpus',
        '--tokenizer_dir',
        'data/sample-tokenizer',
        '--output_dir',
        out,
        '--max_seq_length',
        '64',
        '--max_predictions_per_seq',
        '10',
        '--num_processes',
        '1',
        '--do_whole_word_mask',
        '--max_ngram_size',
        '3',
        '--dupe_factor',
        '1',
        '--num_shards',
        '4',
        '--debug',
      ];
      const first = kbb(...args);
      expect(first.status).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'build_manifest.json'), 'utf8'));
      expect(manifest.flags).toMatchObject({ max_seq_length: 64, max_ngram_size: 3, num_shards: 4, sentence_pair_prob: 0.05, seed: 12345 });
      expect(first.stdout).toContain(`wrote     ${manifest.totals.examples} examples into 4 of 4 shards`);
      const again = kbb(...args);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/the output folder is not empty .*--overwrite/);
      expect(kbb(...args, '--overwrite').status).toBe(0);
      const help = kbb('build-tfrecord', '--help').stdout;
      for (const flag of ['--input_dir', '--max_seq_length', '--long_seq_threshold', '--num_shards', '--overwrite', '--max_ngram_size'])
        expect(help).toContain(flag);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('kbb train and kbb watch', () => {
  it("train takes a line of the reference's TPU script as it is (absl booleans, TPU flags reported unused); watch reads the run", async () => {
    const out = mkdtempSync(join(tmpdir(), 'kbb-cli-train-'));
    try {
      await buildPretrainingData({
        ...SAMPLE_BUILD_SETTINGS,
        inputDir: 'data/sample-corpus',
        tokenizerDir: 'data/sample-tokenizer',
        outputDir: join(out, 'data'),
      });
      // base_size_tpu.sh's flags (spec §2.2), sizes scaled down to the sample.
      const line =
        `--data_dir=${join(out, 'data')} --output_dir=${join(out, 'run')} --tokenizer_dir=data/sample-tokenizer --attention_type=block_sparse ` +
        '--max_encoder_length=128 --max_position_embeddings=128 --block_size=16 --num_attention_heads=2 --num_hidden_layers=1 --hidden_size=32 ' +
        '--intermediate_size=64 --do_train=True --do_eval=False --use_tpu=True --tpu_name=kobigbird-bert-base --tpu_zone=europe-west4-a ' +
        '--num_tpu_cores=8 --train_batch_size=4 --eval_batch_size=8 --num_train_steps=3 --num_warmup_steps=1 --save_checkpoints_steps=2 ' +
        '--learning_rate=1e-3 --keep_checkpoint_max=20 --use_gradient_checkpointing=False --use_nsp=False --max_predictions_per_seq=20 ' +
        '--random_pos_emb=True --iterations_per_loop=200 --seed=42';
      const trained = kbb('train', ...line.split(' '));
      expect(trained.status, trained.stderr).toBe(0);
      expect(trained.stdout).toContain('note: not used locally: --use_tpu=true --tpu_name=kobigbird-bert-base --tpu_zone=europe-west4-a');
      expect(trained.stdout).toMatch(/trained +steps 0 → 3 of 3, loss [\d.]+ → [\d.]+/);
      expect(trained.stdout).toContain(`wrote     ${join(out, 'run', 'model.ckpt-3')}`);
      const config = JSON.parse(readFileSync(join(out, 'run', 'pretrain_config.json'), 'utf8'));
      expect(config).toMatchObject({ use_tpu: true, tpu_name: 'kobigbird-bert-base', do_eval: false, random_pos_emb: true, seed: 42, vocab_size: 3000 });

      const watched = kbb('watch', join(out, 'run'), '--json');
      expect(watched.status, watched.stderr).toBe(0);
      const status = JSON.parse(watched.stdout);
      expect(status).toMatchObject({ latestStep: 3, totalSteps: 3 });
      expect(status.checkpoints.map((c: { name: string }) => c.name)).toEqual(['model.ckpt-0', 'model.ckpt-2', 'model.ckpt-3']);
      expect(status.series.loss.map((p: { step: number }) => p.step)).toEqual([1, 2, 3]);
      const text = kbb('watch', join(out, 'run')).stdout;
      expect(text).toContain(`${join(out, 'run')}: step 3 of 3 (100.0%)`);
      expect(text).toMatch(/\nloss +[\d.]+ +step 3 +[▁▂▃▄▅▆▇█]+/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.skipIf(!hasFixtures)('kbb ckpt and kbb warm-start on keras-bert-tiny (../shared/fixtures/tf-checkpoints)', () => {
  it('ckpt ls --json lists every variable as the reader does; warm-start writes a checkpoint that ckpt diff compares', async () => {
    const prefix = fixture('tf-checkpoints', 'keras-bert-tiny', 'bert_model.ckpt');
    const listed = kbb('ckpt', 'ls', '--json', prefix);
    expect(listed.status, listed.stderr).toBe(0);
    const reader = await CheckpointReader.open(prefix);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(reader.variables.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })));
    await reader.close();

    const out = mkdtempSync(join(tmpdir(), 'kbb-cli-warm-'));
    try {
      const config = join(out, 'config.json');
      writeFileSync(
        config,
        JSON.stringify({
          ...JSON.parse(readFileSync(fixture('tf-checkpoints', 'keras-bert-tiny', 'bert_config.json'), 'utf8')),
          model_type: 'big_bird',
          max_position_embeddings: 64,
        }),
      );
      const warm = kbb('warm-start', '--init_checkpoint', prefix, '--config', config, '--output_dir', join(out, 'bigbird'), '--seed', '3');
      expect(warm.status, warm.stderr).toBe(0);
      expect(warm.stdout).toMatch(/bert\/encoder\/LayerNorm\/gamma +\[4\] +rename +bert\/embeddings\/LayerNorm\/gamma/);
      expect(warm.stdout).toContain('(43 copied, 2 renamed, 1 fresh; 94 source variables unused)');
      const diff = kbb('ckpt', 'diff', prefix, join(out, 'bigbird', 'model.ckpt-0'));
      expect(diff.status, diff.stderr).toBe(0);
      expect(diff.stdout).toMatch(/bert\/encoder\/layer_1\/output\/dense\/kernel +same shape +\[16, 4\] +0\n/);
      expect(diff.stdout).toMatch(/bert\/encoder\/LayerNorm\/beta +added/);
      expect(diff.stdout).toMatch(/bert\/embeddings\/position_embeddings +reshaped +float32 \[16, 4\] → float32 \[64, 4\]/);
      const bad = kbb('warm-start', '--init_checkpoint', `${prefix}-nope`, '--config', config, '--output_dir', join(out, 'x'));
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain(`${prefix}-nope.index: cannot read the checkpoint index`);

      // The warm-started BigBird to Hugging Face and back: the same variables, values unchanged.
      const exported = kbb(
        'export',
        '--checkpoint_dir',
        join(out, 'bigbird'),
        '--output_dir',
        join(out, 'hf'),
        '--big_bird_config_file',
        config,
        '--no-tokenizer',
        '--step_on_output',
      );
      expect(exported.status, exported.stderr).toBe(0);
      expect(exported.stdout).toMatch(
        /bert\/encoder\/layer_0\/attention\/self\/query\/kernel +\[4, 4\] +bert\.encoder\.layer\.0\.attention\.self\.query\.weight \(transposed\) +\[4, 4\]/,
      );
      expect(exported.stdout).toContain('not exported: 1 training step counter');
      expect(exported.stdout).toMatch(/exported .*model\.ckpt-0 as BigBirdForPreTraining \(46 tensors/);
      expect(readdirSync(join(out, 'hf-0')).sort()).toEqual(['config.json', 'model.safetensors']);
      const imported = kbb('import-hf', '--hf_dir', join(out, 'hf-0'), '--output_dir', join(out, 'back'));
      expect(imported.status, imported.stderr).toBe(0);
      // BERT's config says "gelu", which in a Hugging Face config.json is the exact (erf) form.
      expect(imported.stdout).toContain('note: hidden_act "gelu" is the exact (erf) GELU in Hugging Face');
      const roundTrip = kbb('ckpt', 'diff', join(out, 'bigbird', 'model.ckpt-0'), join(out, 'back', 'model.ckpt-0'));
      const rows = roundTrip.stdout.trim().split('\n').slice(1);
      expect(rows).toHaveLength(47);
      for (const row of rows) expect(row).toMatch(/ same shape +\[[\d, ]*\] +0$/);
      const again = kbb(
        'export',
        '--checkpoint_dir',
        join(out, 'bigbird'),
        '--output_dir',
        join(out, 'hf-0'),
        '--big_bird_config_file',
        config,
        '--no-tokenizer',
      );
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/hf-0: already holds config\.json, model\.safetensors; pass --overwrite/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
