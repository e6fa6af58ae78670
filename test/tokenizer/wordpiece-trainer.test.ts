import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleCorpusDir } from '../../lib/package/index.js';
import {
  countCorpusWords,
  HF_WORDPIECE_TRAINER_DEFAULTS,
  KOBIGBIRD_SPECIAL_TOKENS,
  splitWords,
  trainWordPiece,
  WordCounter,
  type WordCounts,
} from '../../lib/tokenizer/index.js';
import { fixture, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { hfTrainWordPiece } from '../helpers/hf-tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-wordpiece-trainer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CASED = { cleanText: true, handleChineseChars: true, lowercase: false, stripAccents: false };

/** The `##` pieces of single characters, in the order a vocabulary gives them ids. */
const continuationBlock = (vocab: readonly string[], prefix = '##'): string[] =>
  vocab.filter((token) => token.startsWith(prefix) && [...token.slice(prefix.length)].length === 1);
const alphabet = (vocab: readonly string[]): string[] => vocab.filter((token) => [...token].length === 1).sort();

function countText(text: string): WordCounts {
  const counter = new WordCounter(CASED);
  counter.add(text);
  return counter.takeSorted();
}

describe('trainWordPiece against Hugging Face tokenizers (Rust) WordPieceTrainer', () => {
  // Words built so that nothing but counts can order anything: after its first character a word
  // continues with 은, and has a 는 before any 이; so whatever order the reference's hash map visits
  // the words in, it gives ##은 ##는 ##이 their ids in that order. Each word has its own power of two
  // as its count, so two pairs can only be equally frequent if they occur in the same words.
  const FIRST = [...'가나다라'];
  const tail = fc.array(fc.constantFrom('은', '는', '이'), { maxLength: 3 }).map((rest) => {
    const chars = ['은', ...rest];
    const firstI = chars.indexOf('이');
    if (firstI >= 0 && !chars.slice(0, firstI).includes('는')) chars.splice(firstI, 0, '는');
    return chars.join('');
  });
  const word = fc.tuple(fc.constantFrom(...FIRST), fc.option(tail, { nil: '' })).map(([first, rest]) => first + rest);
  const corpus = fc.uniqueArray(word, { minLength: 2, maxLength: 12 }).chain((words) =>
    fc.tuple(
      fc.constant(words),
      fc.uniqueArray(
        fc.integer({ min: 0, max: 12 }).map((k) => 2 ** k),
        { minLength: words.length, maxLength: words.length },
      ),
    ),
  );

  it('equals the reference token for token, in the same order, on every corpus where no tie decides a merge', () => {
    let compared = 0;
    fc.assert(
      fc.property(corpus, ([words, counts]) => {
        const text = words.map((w, i) => Array(counts[i]).fill(w).join(' ')).join('\n');
        const ours = trainWordPiece(countText(text), HF_WORDPIECE_TRAINER_DEFAULTS, { detectTies: true });
        fc.pre(ours.ties === 0);
        const file = join(dir, `no-ties-${compared++}.txt`);
        writeFileSync(file, `${text}\n`);
        expect(ours.vocab).toEqual(hfTrainWordPiece([file]));
      }),
      { seed: 20261202, numRuns: 40, maxSkipsPerRun: 100 },
    );
    expect(compared).toBe(40);
  });

  it('ties are real: on the same kind of corpus with equal counts, kbb reports the merges its tie-break decided', () => {
    const ours = trainWordPiece(countText('가은는 나은는 다은는 가은는'), HF_WORDPIECE_TRAINER_DEFAULTS, { detectTies: true });
    expect(ours.ties).toBeGreaterThan(0);
  });

  /**
   * The reference's only freedom is the order its hash map visits words in, which decides the ids of
   * the `##` characters and through them every tie. Given a reference run's order (its vocab.txt lists
   * them), kbb must reproduce that run exactly: every merge, every id.
   */
  async function expectReproducesReference(files: string[]): Promise<void> {
    const reference = hfTrainWordPiece(files);
    const counts = await countCorpusWords(files, { normalizer: CASED });
    const order = continuationBlock(reference);
    const ours = trainWordPiece(counts, HF_WORDPIECE_TRAINER_DEFAULTS, { continuationOrder: order });
    expect(ours.vocab.length).toBe(reference.length);
    const firstDifference = ours.vocab.findIndex((token, id) => token !== reference[id]);
    expect(firstDifference === -1 ? 'identical' : { id: firstDifference, ours: ours.vocab[firstDifference], reference: reference[firstDifference] }).toBe(
      'identical',
    );

    // kbb's own, deterministic order: the same alphabet, and the ids the reference always agrees on.
    const own = trainWordPiece(counts, HF_WORDPIECE_TRAINER_DEFAULTS);
    expect(alphabet(own.vocab)).toEqual(alphabet(reference));
    expect(continuationBlock(own.vocab).sort()).toEqual([...order].sort());
    const fixedIds = own.alphabetSize;
    expect(own.vocab.slice(0, fixedIds)).toEqual(reference.slice(0, fixedIds));

    // Smaller vocabularies are where the reference's run would have stopped; special tokens come first
    // and shift every id alike, which leaves every comparison between pairs as it was.
    const size = own.alphabetSize + own.continuationAlphabetSize + 500;
    if (size < reference.length) {
      expect(trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, vocabSize: size }, { continuationOrder: order }).vocab).toEqual(
        reference.slice(0, size),
      );
      const specials = KOBIGBIRD_SPECIAL_TOKENS;
      const withSpecials = trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, vocabSize: size, specialTokens: specials }, { continuationOrder: order });
      expect(withSpecials.vocab).toEqual([...specials, ...reference.slice(0, size - specials.length)]);
    }
  }

  it('reproduces a reference run on kbb’s sample corpus (three files)', async () => {
    const corpusDir = sampleCorpusDir;
    await expectReproducesReference(
      readdirSync(corpusDir)
        .filter((f) => f.endsWith('.txt'))
        .sort()
        .map((f) => join(corpusDir, f)),
    );
  });

  it.skipIf(!hasFixtures)('reproduces reference runs on the Korean NSMC sample (three runs, each with its own tie-break)', async () => {
    for (let run = 0; run < 3; run++) await expectReproducesReference([fixture('korean-corpus', 'nsmc_sample.txt')]);
  });

  it.skipIf(!hasFixtures)(
    'reproduces a reference run on the 25 MB NSMC benchmark file (30,000 tokens)',
    async () => {
      await expectReproducesReference([fixture('korean-corpus', 'nsmc_reviews_bench.txt')]);
    },
    120_000,
  );

  if (!hasFixtures) it.skip(`the NSMC corpora: ${SKIP_NO_FIXTURES}`, () => {});
});

describe('trainWordPiece options', () => {
  const text = '도서관에서 책을 읽었다. 도서관은 조용했다! 책은 재미있었다, 정말로. 읽었다 읽었다 Zürich café';
  const counts = countText(text);

  it('is deterministic and independent of the order the counts come in', () => {
    const reversed = { words: [...counts.words].reverse(), counts: Array.from(counts.counts).reverse() };
    expect(trainWordPiece(reversed, HF_WORDPIECE_TRAINER_DEFAULTS).vocab).toEqual(trainWordPiece(counts, HF_WORDPIECE_TRAINER_DEFAULTS).vocab);
  });

  it('specialTokens take ids 0… in the order given', () => {
    const vocab = trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, specialTokens: KOBIGBIRD_SPECIAL_TOKENS }).vocab;
    expect(vocab.slice(0, 7)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>']);
    expect(new Set(vocab).size).toBe(vocab.length);
  });

  it('limitAlphabet keeps the most frequent characters (ties: the lower code point) and drops the rest from every token', () => {
    const frequency = new Map<string, number>();
    for (const w of splitWords(text, CASED)) for (const c of w) frequency.set(c, (frequency.get(c) ?? 0) + 1);
    const ranked = [...frequency].sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!);
    const kept = new Set(ranked.slice(0, 10).map(([c]) => c));
    const trained = trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, limitAlphabet: 10 });
    expect(new Set(alphabet(trained.vocab))).toEqual(kept);
    for (const token of trained.vocab) for (const c of token.replace(/^##/, '')) expect(kept.has(c)).toBe(true);
  });

  it('initialAlphabet adds characters the corpus lacks, and limitAlphabet never drops them first', () => {
    const trained = trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, initialAlphabet: ['ㅋ', 'Q'], limitAlphabet: 3 });
    expect(alphabet(trained.vocab)).toEqual(expect.arrayContaining(['Q', 'ㅋ']));
    expect(trained.alphabetSize).toBe(3);
  });

  it('minFrequency stops at the first pair seen fewer times: a prefix of the unlimited run', () => {
    const all = trainWordPiece(counts, HF_WORDPIECE_TRAINER_DEFAULTS);
    const limited = trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, minFrequency: 2 });
    expect(limited.stoppedBy).toBe('min-frequency');
    expect(limited.vocab.length).toBeLessThan(all.vocab.length);
    expect(all.vocab.slice(0, limited.vocab.length)).toEqual(limited.vocab);
    expect(limited.vocab).toContain('도서관');
    expect(limited.vocab).not.toContain('재미있었다');
  });

  it('continuingSubwordPrefix marks the pieces that continue a word', () => {
    const trained = trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, continuingSubwordPrefix: '@@' });
    expect(trained.vocab).toContain('@@관');
    expect(trained.vocab.some((token) => token.startsWith('##'))).toBe(false);
    expect(trained.vocab).toContain('도서관');
  });

  it('rejects options the reference would misread', () => {
    expect(() => trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, vocabSize: 0 })).toThrow(/vocabSize must be an integer of at least 1/);
    expect(() => trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, initialAlphabet: ['ab'] })).toThrow(/single characters, got "ab"/);
    expect(() => trainWordPiece(counts, { ...HF_WORDPIECE_TRAINER_DEFAULTS, specialTokens: ['[UNK]', '[UNK]'] })).toThrow(/listed twice/);
  });
});
