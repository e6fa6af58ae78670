import { CharClass, charClass } from './char-class.js';
import { isBertWhitespace } from './normalizer.js';

/** A pre-tokenized word: its text and its span `[start, end)` in the string it was cut from. */
export interface Word {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/**
 * BertPreTokenizer: split on whitespace (dropped) and isolate every punctuation character
 * (ASCII punctuation and Unicode P*) as a word of its own.
 */
export function bertPreTokenize(text: string): Word[] {
  const words: Word[] = [];
  let wordStart = -1;
  const close = (at: number): void => {
    if (wordStart >= 0) words.push({ text: text.slice(wordStart, at), start: wordStart, end: at });
    wordStart = -1;
  };
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isBertWhitespace(cp)) {
      close(i);
    } else if (charClass(cp) === CharClass.Punctuation) {
      close(i);
      words.push({ text: text.slice(i, i + width), start: i, end: i + width });
    } else if (wordStart < 0) {
      wordStart = i;
    }
    i += width;
  }
  close(text.length);
  return words;
}
