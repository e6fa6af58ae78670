import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLine } from '../../repl/interactive/run-line.js';
import type { CommandIo } from '../../repl/io/command-io.js';
import { registry } from '../../repl/registry/commands.js';
import { projectRoot } from '../helpers/fixtures.js';

/*
 * Bad flag values are refused up front, in the library, with one line naming the flag: before any
 * input is read or any output written. Run in-process through the REPL's runner, which is the
 * command line's parser and registry, so each case costs milliseconds.
 */

const dir = mkdtempSync(join(tmpdir(), 'kbb-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quietIo: CommandIo = {
  signal: new AbortController().signal,
  columns: 100,
  text: () => {},
  table: () => {},
  json: () => {},
  progress: () => ({ update: () => {}, stop: () => {} }),
};

const corpus = join(projectRoot, 'data', 'sample-corpus');
const tokenizer = join(projectRoot, 'data', 'sample-tokenizer');
let cases = 0;

/** Runs `line`; it must fail with one line that names `flag`, and leave `output` unwritten. */
async function expectRefused(line: string, flag: string, output: string): Promise<void> {
  const outcome = await runLine(line, { registry, io: quietIo });
  expect(outcome.kind, line).toBe('error');
  const message = outcome.kind === 'error' ? outcome.message : '';
  expect(message, line).not.toContain('\n');
  expect(message, line).toContain(`--${flag}`);
  expect(message, line).not.toMatch(/TypeError|RangeError|Invalid array length|undefined|NaN/);
  expect(existsSync(output), `${line}: wrote ${output}`).toBe(false);
}

describe('build-tfrecord refuses bad flag values before any work', () => {
  // [flag, bad value, extra flags]
  const table: readonly (readonly [flag: string, value: string, extra: string])[] = [
    ['num_processes', '-1', ''],
    ['num_processes', '3', ''],
    ['num_shards', '0', ''],
    ['num_shards', '-2', ''],
    ['dupe_factor', '0', ''],
    ['dupe_factor', '-1', ''],
    ['max_seq_length', '4', ''],
    ['max_seq_length', '-64', ''],
    ['max_predictions_per_seq', '0', ''],
    ['max_predictions_per_seq', '63', ''],
    ['max_predictions_per_seq', '1000', ''],
    ['masked_lm_prob', '1.5', ''],
    ['masked_lm_prob', '-0.1', ''],
    ['short_seq_prob', '2', ''],
    ['sentence_pair_prob', '-1', ''],
    ['long_seq_threshold', '0.5', ''],
    ['token_cache_mb', '-1', ''],
    ['seed', '-1', ''],
    ['max_ngram_size', '0', '--do_whole_word_mask'],
    ['max_ngram_size', '2', ''],
    ['job_index', '5', ''],
    ['job_index', '-1', ''],
  ];
  it.each(table)('--%s %s', async (flag, value, extra) => {
    const out = join(dir, `build-${cases++}`);
    const base = `build-tfrecord --input_dir ${corpus} --tokenizer_dir ${tokenizer} --output_dir ${out} --num_processes 1 --num_shards 2 --max_seq_length 64 --max_predictions_per_seq 10`;
    await expectRefused(`${base} ${extra} --${flag} ${value}`, flag, out);
  });

  it('--emit_job checks the build flags too', async () => {
    const out = join(dir, `build-${cases++}`);
    const job = join(dir, `job-${cases}.yaml`);
    await expectRefused(
      `build-tfrecord --input_dir ${corpus} --tokenizer_dir ${tokenizer} --output_dir ${out} --num_processes 2 --num_shards 4 --emit_job k8s --image kbb --job_file ${job} --masked_lm_prob 7`,
      'masked_lm_prob',
      job,
    );
  });
});

describe('train refuses bad flag values before any work', () => {
  const table: readonly (readonly [flag: string, value: string, extra: string])[] = [
    ['train_batch_size', '0', ''],
    ['train_batch_size', '-4', ''],
    ['eval_batch_size', '0', ''],
    ['num_train_steps', '-1', ''],
    ['num_warmup_steps', '-1', ''],
    ['save_checkpoints_steps', '0', ''],
    ['keep_checkpoint_max', '0', ''],
    ['gradient_accumulation_steps', '0', ''],
    ['max_eval_steps', '-1', ''],
    ['learning_rate', '0', ''],
    ['learning_rate', '-0.001', ''],
    ['hidden_dropout_prob', '1', ''],
    ['attention_probs_dropout_prob', '-0.1', ''],
    ['masked_lm_prob', '1.2', ''],
    ['max_encoder_length', '0', ''],
    ['max_predictions_per_seq', '0', ''],
    ['max_predictions_per_seq', '127', ''],
    ['max_encoder_length', '256', '--max_position_embeddings 128'],
    ['block_size', '0', ''],
    ['num_rand_blocks', '-1', ''],
    ['max_encoder_length', '1000', '--max_position_embeddings 1024 --block_size 64 --attention_type block_sparse'],
    ['max_encoder_length', '1024', '--max_position_embeddings 1024 --block_size 256 --attention_type block_sparse'],
    ['hidden_size', '30', '--num_attention_heads 4'],
    ['hidden_size', '-32', ''],
    ['num_hidden_layers', '0', ''],
    ['num_attention_heads', '0', ''],
    ['intermediate_size', '-1', ''],
    ['optimizer_beta1', '1', ''],
    ['optimizer_beta2', '-0.5', ''],
    ['optimizer_epsilon', '0', ''],
    ['weight_decay_rate', '-0.01', ''],
    ['initializer_range', '0', ''],
    ['seed', '-3', ''],
  ];
  it.each(table)('--%s %s', async (flag, value, extra) => {
    const out = join(dir, `train-${cases++}`);
    const base = `train --output_dir ${out} --data_dir ${join(dir, 'no-data')} --tokenizer_dir ${tokenizer} --max_encoder_length 128 --max_predictions_per_seq 20 --max_position_embeddings 128 --hidden_size 32 --num_hidden_layers 2 --num_attention_heads 2 --intermediate_size 64`;
    await expectRefused(`${base} ${extra} --${flag} ${value}`, flag, out);
  });
});

describe('warm-start and stage refuse bad flag values before any work', () => {
  it('warm-start --seed -1', async () => {
    const out = join(dir, `warm-${cases++}`);
    await expectRefused(
      `warm-start --init_checkpoint ${join(dir, 'bert', 'bert_model.ckpt')} --config ${join(dir, 'config.json')} --output_dir ${out} --seed -1`,
      'seed',
      out,
    );
  });

  it.each(['0', '-8'])('stage --concurrency %s', async (value) => {
    const out = join(dir, `stage-${cases++}`);
    await expectRefused(`stage ${out} --tokenizer_dir ${tokenizer} --concurrency ${value}`, 'concurrency', out);
  });
});
