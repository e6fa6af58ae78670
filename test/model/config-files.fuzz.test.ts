import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../lib/fs/index.js';
import { type BigBirdConfig, bigBirdTfVariables, readBigBirdConfig } from '../../lib/model/index.js';
import { expectReadOrRefused, fuzzParameters, mutated, mutatedJson } from '../helpers/fuzz.js';
import { PUBLISHED_KOBIGBIRD_CONFIG } from '../helpers/published-config.js';

/*
 * config.json and pretrain_config.json under hostile input: values replaced by nulls, wrong types,
 * negative and huge sizes, keys deleted and added, and the files' bytes mutated. readBigBirdConfig
 * returns a config every later stage can size its parameters from, or throws an InputError naming
 * the file and the key.
 */

/** The model keys of KoBigBird's pretrain_config.json (TF flag names). */
const TF_CONFIG = {
  attention_probs_dropout_prob: 0.1,
  attention_type: 'block_sparse',
  block_size: 64,
  bos_token_id: 5,
  eos_token_id: 6,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 4096,
  num_attention_heads: 12,
  num_hidden_layers: 12,
  num_rand_blocks: 3,
  pad_token_id: 0,
  rescale_embedding: false,
  sep_token_id: 3,
  type_vocab_size: 2,
  use_bias: true,
  use_gradient_checkpointing: false,
  vocab_size: 32500,
};

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-config-fuzz-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What a config that was read promises the stages after: sizes that are positive integers, heads that divide the hidden size, parameters it can list. */
function expectUsable(config: BigBirdConfig): void {
  for (const key of [
    'vocab_size',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
    'max_position_embeddings',
    'block_size',
  ] as const) {
    expect(Number.isSafeInteger(config[key]) && config[key] >= 1, key).toBe(true);
  }
  expect(config.hidden_size % config.num_attention_heads).toBe(0);
  expect(['block_sparse', 'original_full']).toContain(config.attention_type);
  expect(bigBirdTfVariables(config).length).toBeGreaterThan(0);
}

describe('fuzzed config files', () => {
  for (const [label, valid] of [
    ['config.json', PUBLISHED_KOBIGBIRD_CONFIG],
    ['pretrain_config.json', TF_CONFIG],
  ] as const) {
    it(`${label}: JSON mutations are read into a usable config or refused with an InputError naming the file`, async () => {
      let n = 0;
      const outcomes = { read: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(mutatedJson(valid), async (json) => {
          const file = join(dir, `${n++}-${label}`);
          writeFileSync(file, JSON.stringify(json) ?? 'null');
          outcomes[await expectReadOrRefused(file, async () => expectUsable(await readBigBirdConfig(file)), json)]++;
        }),
        fuzzParameters(),
      );
      expect(outcomes.read).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(0);
    });

    it(`${label}: byte mutations are read into a usable config or refused`, async () => {
      let n = 0;
      const bytes = Buffer.from(JSON.stringify(valid, null, 2));
      await fc.assert(
        fc.asyncProperty(mutated(bytes), async (input) => {
          const file = join(dir, `bytes-${n++}-${label}`);
          writeFileSync(file, input.bytes);
          await expectReadOrRefused(file, async () => expectUsable(await readBigBirdConfig(file)), input.mutations);
        }),
        fuzzParameters(),
      );
    });
  }
});

describe('config values no BigBird can have are refused, naming the file, the key and what was expected', () => {
  /** The message `readBigBirdConfig` refuses `json` with. */
  async function refusal(json: object): Promise<string> {
    const file = join(dir, 'refused-config.json');
    writeFileSync(file, JSON.stringify(json));
    const error = await readBigBirdConfig(file).then(
      () => expect.fail(`expected ${JSON.stringify(json)} to be refused`),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).file).toBe(file);
    const message = (error as Error).message;
    expect(message.startsWith(`${file}: `)).toBe(true);
    return message;
  }

  it.each([
    [{ vocab_size: null }, /vocab_size null is not an integer/],
    [{ vocab_size: -1 }, /vocab_size is -1, expected an integer from 1 to 2147483647/],
    [{ vocab_size: 0 }, /vocab_size is 0, expected an integer from 1/],
    [{ vocab_size: 1e15 }, /vocab_size is 1000000000000000, expected an integer from 1 to 2147483647/],
    [{ vocab_size: 2 ** 53 }, /vocab_size 9007199254740992 is not an integer/],
    [{ vocab_size: 3_000_000 }, /vocab_size 3000000 × hidden_size 768 is a parameter of 2304000000 elements, more than the 2147483647 a tensor can hold/],
    [{ hidden_size: 770 }, /hidden_size 770 is not a multiple of num_attention_heads 12/],
    [{ num_attention_heads: 0 }, /num_attention_heads is 0, expected an integer from 1/],
    [{ num_hidden_layers: 1_000_000 }, /num_hidden_layers is 1000000, expected an integer from 1 to 4096/],
    [{ num_random_blocks: -3 }, /num_random_blocks is -3, expected an integer from 0/],
    [{ hidden_dropout_prob: 1.5 }, /hidden_dropout_prob is 1.5, expected a probability in \[0, 1\]/],
    [{ attention_probs_dropout_prob: '0.1' }, /attention_probs_dropout_prob "0.1" is not a number/],
    [{ layer_norm_eps: 0 }, /layer_norm_eps is 0, expected a positive number/],
    [{ pad_token_id: -1 }, /pad_token_id is -1, expected a token id \(0 or more\) or null/],
    [{ attention_type: 'simulated_sparse' }, /attention_type "simulated_sparse" is not one of block_sparse, original_full/],
    [{ architectures: 'BigBirdForPreTraining' }, /architectures "BigBirdForPreTraining" is not a list of strings/],
    [{ type_vocab_size: 0 }, /type_vocab_size is 0, expected an integer from 1/],
  ])('config.json with %j', async (change, pattern) => {
    expect(await refusal({ ...PUBLISHED_KOBIGBIRD_CONFIG, ...change })).toMatch(pattern);
  });

  it('pretrain_config.json with a missing key, a wrong type, or sizes that do not fit', async () => {
    const { vocab_size: _, ...missing } = TF_CONFIG;
    expect(await refusal(missing)).toMatch(/missing "vocab_size" \(the converter copies it to "vocab_size"\)/);
    expect(await refusal({ ...TF_CONFIG, num_rand_blocks: null })).toMatch(/num_rand_blocks null is not an integer/);
    expect(await refusal({ ...TF_CONFIG, hidden_size: 100, num_attention_heads: 7 })).toMatch(/hidden_size 100 is not a multiple of num_attention_heads 7/);
  });

  it('a folder, an oversized file, a file that is not JSON or not an object', async () => {
    expect(await refusal([])).toMatch(/not a JSON object/);
    const folder = join(dir, 'a-folder.json');
    mkdirSync(folder, { recursive: true });
    await expect(readBigBirdConfig(folder)).rejects.toThrow(new RegExp(`^${folder}: is a folder, expected a config file`));
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"model_type": "big_bird", "x": "${'x'.repeat(2 << 20)}"}`);
    await expect(readBigBirdConfig(big)).rejects.toThrow(/over the 1048576-byte limit for a config file/);
    const missing = readBigBirdConfig(join(dir, 'none.json'));
    await expect(missing).rejects.toBeInstanceOf(InputError);
    await expect(missing).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
