/**
 * Generates the demo tokenizer folder (data/sample-tokenizer/) from the demo corpus, so the project
 * ships no third-party vocabulary. The layout mirrors KoBigBird's tokenizer folder: vocab.txt with
 * [PAD] [UNK] [CLS] [SEP] [MASK] <s> </s> at ids 0–6, then a few [unused*] slots, tokenizer_config.json
 * and special_tokens_map.json.
 *
 * The vocabulary is built greedily and deterministically (ties in code-point order):
 *   1. every printable ASCII character and every character of the corpus, as a word start and as a
 *      `##` continuation, so no word of the corpus is unknown;
 *   2. then, by score = count × (length − 1), whole words seen at least twice, word prefixes and
 *      `##` suffixes (up to 4 characters) until the requested size.
 * Words are cut with kbb's own BERT normalizer and pre-tokenizer stages.
 *
 *   node --import tsx scripts/make-sample-vocab.ts [--size 3000] [--corpus data/sample-corpus] [--out data/sample-tokenizer]
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
    corpus: { type: 'string', default: join(root, 'data', 'sample-corpus') },
    out: { type: 'string', default: join(root, 'data', 'sample-tokenizer') },
  },
});
const size = Number(values.size);
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>'];
const UNUSED = Array.from({ length: 10 }, (_, i) => `[unused${i}]`);

const wordCounts = new Map<string, number>();
for (const file of await findCorpusFiles(values.corpus!)) {
  for await (const batch of readCorpusFile(file)) {
    for (const sentence of batch.sentences) {
      const normalized = bertNormalize(sentence.text, { cleanText: true, handleChineseChars: true, lowercase: false, stripAccents: false });
      for (const word of bertPreTokenize(normalized.text)) wordCounts.set(word.text, (wordCounts.get(word.text) ?? 0) + 1);
    }
  }
}

const vocab: string[] = [];
const seen = new Set<string>();
const add = (token: string): void => {
  if (!seen.has(token)) {
    seen.add(token);
    vocab.push(token);
  }
};
[...SPECIALS, ...UNUSED].forEach(add);

const chars = new Set<string>();
for (let c = 0x21; c <= 0x7e; c++) chars.add(String.fromCharCode(c));
for (const word of wordCounts.keys()) for (const ch of word) chars.add(ch);
const sortedChars = [...chars].sort(compareCodePoints);
sortedChars.forEach(add);
sortedChars.forEach((ch) => add(`##${ch}`));

const scores = new Map<string, number>();
const score = (piece: string, count: number): void => {
  const length = [...piece.replace(/^##/, '')].length;
  if (length > 1) scores.set(piece, (scores.get(piece) ?? 0) + count * (length - 1));
};
for (const [word, count] of wordCounts) {
  const letters = [...word];
  if (count >= 2) score(word, count);
  for (let n = 2; n < letters.length && n <= 4; n++) score(letters.slice(0, n).join(''), count);
  for (let start = 1; start < letters.length; start++) {
    const end = Math.min(letters.length, start + 4);
    score(`##${letters.slice(start, end).join('')}`, count);
  }
}
const ranked = [...scores].sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]));
for (const [piece] of ranked) {
  if (vocab.length >= size) break;
  add(piece);
}

mkdirSync(values.out!, { recursive: true });
writeFileSync(join(values.out!, 'vocab.txt'), `${vocab.join('\n')}\n`);
const specialTokensMap = { bos_token: '<s>', eos_token: '</s>', unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };
writeFileSync(join(values.out!, 'special_tokens_map.json'), `${JSON.stringify(specialTokensMap, null, 2)}\n`);
const config = {
  do_lower_case: false,
  do_basic_tokenize: true,
  never_split: null,
  ...specialTokensMap,
  tokenize_chinese_chars: true,
  strip_accents: null,
  model_max_length: 4096,
  tokenizer_class: 'BertTokenizer',
};
writeFileSync(join(values.out!, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
console.log(`wrote ${values.out}: ${vocab.length} tokens (${sortedChars.length} characters, ${wordCounts.size} distinct words in the corpus)`);
