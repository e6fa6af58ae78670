/**
 * Generates the demo tokenizer folder (data/sample-tokenizer/) from the demo corpus, so the project
 * ships no third-party vocabulary. The layout mirrors KoBigBird's tokenizer folder (BERT WordPiece):
 * vocab.txt, tokenizer_config.json and special_tokens_map.json.
 *
 *   node --import tsx scripts/make-sample-vocab.ts [--size 3000] [--corpus data/sample-corpus] [--out data/sample-tokenizer]
 *
 * How vocab.txt is built (deterministic: same corpus and size, same file, byte for byte):
 *   0. Words: every sentence of the corpus (read with kbb's corpus reader) goes through kbb's BERT
 *      normalizer (cased, CJK ideographs padded with spaces) and pre-tokenizer (split on whitespace,
 *      every punctuation character a word of its own), so each CJK ideograph is a one-character
 *      word. Distinct words are counted.
 *   1. Ids 0–6: [PAD] [UNK] [CLS] [SEP] [MASK] <s> </s>, as in KoBigBird; then [unused0]…[unused9]
 *      (KoBigBird has [unused2]…[unused499]; a few are kept so tools that skip [unused*] see some).
 *   2. Characters: every printable ASCII character and every character of the corpus, in code-point
 *      order, first as a word-initial piece, then again as a `##` continuation piece. With these no
 *      word of the corpus (and no ASCII word) ever becomes [UNK].
 *   3. Learned pieces, one per round until the vocabulary has --size entries: every distinct word is
 *      cut greedily longest-match-first with the current vocabulary (exactly as WordPiece encodes);
 *      each run of two or more adjacent pieces of a cut is a candidate for the piece that joins them
 *      (`도서` `##관` → `도서관`; `##에` `##서` → `##에서`; a whole cut → the whole word). A candidate
 *      scores, summed over the corpus, (word count) × (pieces it replaces − 1): the pieces it would
 *      save. The best-scoring candidate seen at least --min-count (2) times is added; ties go to the
 *      candidate that comes first in code-point order. The vocabulary stops short of --size only
 *      when no candidate is left (and is just steps 1–2 when --size is smaller than those).
 *   Frequent whole words, stems and `##` endings (조사, 어미) all come out of step 3. No entry appears
 *   twice.
 *
 * tokenizer_config.json and special_tokens_map.json have the keys and values of KoBigBird's
 * (BertTokenizer, do_lower_case false, tokenize_chinese_chars true, strip_accents null, bos <s>,
 * eos </s>, model_max_length 4096).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findCorpusFiles, readCorpusFile } from '../lib/corpus/index.js';
import { compareCodePoints } from '../lib/text/index.js';
import { bertNormalize, bertPreTokenize } from '../lib/tokenizer/index.js';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '3000' },
    'min-count': { type: 'string', default: '2' },
    corpus: { type: 'string', default: join(root, 'data', 'sample-corpus') },
    out: { type: 'string', default: join(root, 'data', 'sample-tokenizer') },
  },
});
const size = Number(values.size);
const minCount = Number(values['min-count']);
if (!Number.isInteger(size) || size < 1 || !Number.isInteger(minCount) || minCount < 1) {
  throw new Error('--size and --min-count must be positive integers');
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>'];
const UNUSED = Array.from({ length: 10 }, (_, i) => `[unused${i}]`);
const PREFIX = '##';

// 0. Count the distinct words of the corpus.
const wordCounts = new Map<string, number>();
for (const file of await findCorpusFiles(values.corpus!)) {
  for await (const batch of readCorpusFile(file)) {
    for (const sentence of batch.sentences) {
      const normalized = bertNormalize(sentence.text, { cleanText: true, handleChineseChars: true, lowercase: false, stripAccents: false });
      for (const word of bertPreTokenize(normalized.text)) wordCounts.set(word.text, (wordCounts.get(word.text) ?? 0) + 1);
    }
  }
}
if (wordCounts.size === 0) throw new Error(`${values.corpus}: no words found`);

const vocab: string[] = [];
const inVocab = new Set<string>();
const add = (token: string): void => {
  if (!inVocab.has(token)) {
    inVocab.add(token);
    vocab.push(token);
  }
};

// 1. Special and unused tokens.
[...SPECIALS, ...UNUSED].forEach(add);

// 2. Every printable ASCII character and every corpus character, word-initial then `##`.
const chars = new Set<string>();
for (let c = 0x21; c <= 0x7e; c++) chars.add(String.fromCharCode(c));
for (const word of wordCounts.keys()) for (const ch of word) chars.add(ch);
const sortedChars = [...chars].sort(compareCodePoints);
sortedChars.forEach(add);
sortedChars.forEach((ch) => {
  add(PREFIX + ch);
});
const baseSize = vocab.length;

// 3. Learned pieces. `cut` is WordPiece's greedy longest-match-first; every word is cuttable
// because all its characters are in the vocabulary.
let longestPiece = 1;
const cut = (word: string): string[] => {
  const letters = [...word];
  const pieces: string[] = [];
  for (let start = 0; start < letters.length; ) {
    for (let end = Math.min(letters.length, start + longestPiece); end > start; end--) {
      const piece = (start > 0 ? PREFIX : '') + letters.slice(start, end).join('');
      if (inVocab.has(piece) || end === start + 1) {
        pieces.push(piece);
        start = end;
        break;
      }
    }
  }
  return pieces;
};
const join2 = (left: string, right: string): string => left + right.slice(PREFIX.length);

const words = [...wordCounts].map(([text, count]) => ({ text, count, pieces: cut(text) }));
while (vocab.length < size) {
  const saved = new Map<string, number>(); // pieces the candidate would save over the corpus
  const occurrences = new Map<string, number>();
  for (const { count, pieces } of words) {
    for (let i = 0; i + 1 < pieces.length; i++) {
      let candidate = pieces[i]!;
      for (let j = i + 1; j < pieces.length; j++) {
        candidate = join2(candidate, pieces[j]!);
        saved.set(candidate, (saved.get(candidate) ?? 0) + count * (j - i));
        occurrences.set(candidate, (occurrences.get(candidate) ?? 0) + count);
      }
    }
  }
  let best: string | undefined;
  let bestScore = 0;
  for (const [candidate, score] of saved) {
    if (occurrences.get(candidate)! < minCount) continue;
    if (score > bestScore || (score === bestScore && best !== undefined && compareCodePoints(candidate, best) < 0)) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best === undefined) break;
  add(best);
  const surface = best.startsWith(PREFIX) ? best.slice(PREFIX.length) : best;
  longestPiece = Math.max(longestPiece, [...surface].length);
  for (const word of words) if (word.text.includes(surface)) word.pieces = cut(word.text);
}

mkdirSync(values.out!, { recursive: true });
writeFileSync(join(values.out!, 'vocab.txt'), `${vocab.join('\n')}\n`);
const specialTokensMap = {
  bos_token: '<s>',
  eos_token: '</s>',
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
};
writeFileSync(join(values.out!, 'special_tokens_map.json'), `${JSON.stringify(specialTokensMap, null, 2)}\n`);
const config = {
  do_lower_case: false,
  do_basic_tokenize: true,
  never_split: null,
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
  bos_token: '<s>',
  eos_token: '</s>',
  tokenize_chinese_chars: true,
  strip_accents: null,
  model_max_length: 4096,
  tokenizer_class: 'BertTokenizer',
};
writeFileSync(join(values.out!, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
const tokensAfter = words.reduce((n, w) => n + w.count * w.pieces.length, 0);
console.log(
  `wrote ${values.out}: ${vocab.length} entries (${SPECIALS.length + UNUSED.length} special/unused, ${sortedChars.length} characters × 2, ` +
    `${vocab.length - baseSize} learned) from ${wordCounts.size} distinct words; corpus words cut into ${tokensAfter} pieces`,
);
