import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

const SAMPLE_CORPUS = join(import.meta.dirname, '..', '..', 'data', 'sample-corpus');
const SAMPLE_TOKENIZER = join(import.meta.dirname, '..', '..', 'data', 'sample-tokenizer');

/** Every line of the sample corpus, plus the cases the fused pass branches on. */
function texts(): string[] {
  const lines = readdirSync(SAMPLE_CORPUS)
    .filter((name) => name.endsWith('.txt'))
    .flatMap((name) => readFileSync(join(SAMPLE_CORPUS, name), 'utf8').split('\n'));
  return [...lines, '[MASK] 토큰과 [CLS]가 섞인 문장', `제어\u0000문자\u00ad와 한자 漢字, 😀 그리고 ${'가'.repeat(120)}`, 'xyzzy∮unknown'];
}

/**
 * Builder worker threads get the main thread's tokenizer as `state()`, structured-cloned by
 * postMessage, instead of loading the folder again: the rebuilt tokenizer must give the same ids.
 */
async function expectSameAfterTransfer(dir: string): Promise<void> {
  const original = await loadTokenizer(dir);
  // structuredClone is the algorithm postMessage uses.
  const received = WordPieceTokenizer.fromState(structuredClone(original.state()));
  const all = texts();
  const mismatches = all.filter((text) => Array.from(received.encode(text)).join() !== Array.from(original.encode(text)).join());
  expect(mismatches).toEqual([]);
  expect(received.tokenize(all.join(' '))).toEqual(original.tokenize(all.join(' ')));
  expect(received.vocabSize).toBe(original.vocabSize);
  expect(received.idToToken).toEqual(original.idToToken);
  expect(Array.from(received.isContinuation)).toEqual(Array.from(original.isContinuation));
  expect([...received.addedTokens]).toEqual([...original.addedTokens]);
  // The tables were copied, not shared: changing the copy leaves the original alone.
  const state = original.state();
  const copy = structuredClone(state);
  copy.tries.initial.values.fill(-1);
  expect(state.tries.initial.values.some((v) => v >= 0)).toBe(true);
}

describe('a tokenizer sent to another thread (state → structured clone → fromState)', () => {
  it('tokenizes like the original: the sample tokenizer', async () => {
    await expectSameAfterTransfer(SAMPLE_TOKENIZER);
  });

  it.skipIf(!hasFixtures)('tokenizes like the original: the KoBigBird tokenizer (skipped without ../shared/fixtures)', async () => {
    await expectSameAfterTransfer(fixture('kobigbird-tokenizer'));
  });
});
