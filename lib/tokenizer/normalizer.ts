import { CharClass, charClass, isControlWhitespace } from './char-class.js';
import { stripAccents } from './strip-accents.js';

export interface BertNormalizerOptions {
  /** Drop control/format characters and U+FFFD, map every whitespace character to a space. */
  readonly cleanText: boolean;
  /** Surround CJK ideographs with spaces. */
  readonly handleChineseChars: boolean;
  /** Lowercase (per code point, as the Rust normalizer does). */
  readonly lowercase: boolean;
  /** NFD and drop combining marks (Mn). HF turns this on with lowercase unless strip_accents is false. */
  readonly stripAccents: boolean;
}

/**
 * A normalized string with its alignment to the original: the normalized UTF-16 unit `j` came from
 * original units `[start[j], end[j])`. Padding spaces point at the character they pad.
 */
export interface NormalizedString {
  readonly original: string;
  readonly text: string;
  readonly start: readonly number[];
  readonly end: readonly number[];
}

/**
 * BertNormalizer from Hugging Face tokenizers: clean text, pad CJK, optionally strip accents and
 * lowercase. This is the readable, offset-tracking stage; the fused encoder in wordpiece-tokenizer.ts
 * applies the same table without building strings.
 */
export function bertNormalize(original: string, options: BertNormalizerOptions): NormalizedString {
  let text = '';
  const start: number[] = [];
  const end: number[] = [];
  const emit = (piece: string, from: number, to: number): void => {
    text += piece;
    for (let k = 0; k < piece.length; k++) {
      start.push(from);
      end.push(to);
    }
  };
  for (let i = 0; i < original.length; ) {
    const cp = original.codePointAt(i)!;
    const width = cp > 0xffff && !(cp >= 0xd800 && cp <= 0xdfff) ? 2 : 1;
    const from = i;
    const to = i + width;
    i = to;
    const cls = charClass(cp);
    if (options.cleanText) {
      if (cls === CharClass.Removed) continue;
      if (cls === CharClass.Whitespace) {
        emit(' ', from, to);
        continue;
      }
    }
    const scalar = cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
    let piece = options.stripAccents ? stripAccents(scalar) : String.fromCodePoint(scalar);
    if (options.lowercase) piece = piece.toLowerCase();
    if (options.handleChineseChars && cls === CharClass.Cjk) {
      emit(' ', from, to);
      emit(piece, from, to);
      emit(' ', from, to);
    } else {
      emit(piece, from, to);
    }
  }
  return { original, text, start, end };
}

/** Whitespace as the BERT pre-tokenizer sees it (Rust `char::is_whitespace`). */
export const isBertWhitespace = (codePoint: number): boolean => charClass(codePoint) === CharClass.Whitespace || isControlWhitespace(codePoint);
