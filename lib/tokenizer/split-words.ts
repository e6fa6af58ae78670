import { CHAR_CLASS_TABLE, CharClass } from './char-class.js';
import { type BertNormalizerOptions, bertNormalize } from './normalizer.js';
import { bertPreTokenize } from './pre-tokenizer.js';

/**
 * Calls `visit` with every word of `text` as Hugging Face's trainer sees it: the BERT normalizer,
 * then the BERT pre-tokenizer. Special tokens are not matched first: the reference trainer normalizes
 * and pre-tokenizes training text without its added vocabulary, so a literal `[CLS]` counts as the
 * words `[`, `CLS` and `]` there too.
 *
 * Cased BERT settings with clean_text (KoBigBird's) take one fused pass over the UTF-16 units that
 * slices each word straight out of `text`; any other setting runs the two stages one after the other.
 */
export function forEachWord(text: string, normalizer: BertNormalizerOptions, visit: (word: string) => void): void {
  if (normalizer.cleanText && !normalizer.lowercase && !normalizer.stripAccents) {
    splitFused(text, normalizer.handleChineseChars, visit);
    return;
  }
  for (const word of bertPreTokenize(bertNormalize(text, normalizer).text)) visit(word.text);
}

/** The words of `text`, in order (see `forEachWord`). */
export function splitWords(text: string, normalizer: BertNormalizerOptions): string[] {
  const words: string[] = [];
  forEachWord(text, normalizer, (word) => words.push(word));
  return words;
}

/**
 * A removed character (clean_text) keeps the word open, so its neighbours join; whitespace closes the
 * word; punctuation (and CJK ideographs, when padded) close it and are words of their own.
 */
function splitFused(text: string, padCjk: boolean, visit: (word: string) => void): void {
  const table = CHAR_CLASS_TABLE;
  const to = text.length;
  let runStart = -1;
  let carried = '';
  let i = 0;
  while (i < to) {
    let cp = text.charCodeAt(i);
    let width = 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < to) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    const cls = table[cp];
    if (cls === CharClass.Word || (cls === CharClass.Cjk && !padCjk)) {
      if (runStart < 0) runStart = i;
    } else if (cls === CharClass.Removed) {
      if (runStart >= 0) {
        carried += text.slice(runStart, i);
        runStart = -1;
      }
    } else {
      if (runStart >= 0 || carried !== '') {
        visit(runStart >= 0 ? carried + text.slice(runStart, i) : carried);
        runStart = -1;
        carried = '';
      }
      if (cls !== CharClass.Whitespace) visit(text.slice(i, i + width));
    }
    i += width;
  }
  if (runStart >= 0 || carried !== '') visit(runStart >= 0 ? carried + text.slice(runStart, to) : carried);
}
