import { CHAR_CLASS_RANGES } from './char-classes.generated.js';

/** How the BERT normalizer and pre-tokenizer treat a code point. */
export const CharClass = {
  /** An ordinary character: part of a word. */
  Word: 0,
  /** Dropped by clean_text (controls, format chars, U+FFFD, private use …); joins its neighbours. */
  Removed: 1,
  /** Turned into a space: ends a word. */
  Whitespace: 2,
  /** A CJK ideograph: padded with spaces, so always a one-character word. */
  Cjk: 3,
  /** Punctuation: split off by the pre-tokenizer as a one-character word. */
  Punctuation: 4,
} as const;
export type CharClass = (typeof CharClass)[keyof typeof CharClass];

function buildTable(): Uint8Array {
  // One byte per code point (1.1 MB): a single indexed load in the hot loop beats any range search.
  const table = new Uint8Array(0x110000);
  const fill = (ranges: readonly (readonly [number, number])[], value: CharClass): void => {
    for (const [first, last] of ranges) table.fill(value, first, last + 1);
  };
  fill(CHAR_CLASS_RANGES.removed, CharClass.Removed);
  fill(CHAR_CLASS_RANGES.whitespace, CharClass.Whitespace);
  fill(CHAR_CLASS_RANGES.cjk, CharClass.Cjk);
  fill(CHAR_CLASS_RANGES.punctuation, CharClass.Punctuation);
  // Lone surrogates cannot reach the Rust library: Node-API turns them into U+FFFD, which clean_text drops.
  table.fill(CharClass.Removed, 0xd800, 0xe000);
  return table;
}

export const CHAR_CLASS_TABLE: Uint8Array = buildTable();

export const charClass = (codePoint: number): CharClass => CHAR_CLASS_TABLE[codePoint] as CharClass;

/**
 * Characters Rust's `char::is_whitespace` accepts that clean_text would otherwise remove as controls.
 * They only matter when clean_text is off (the pre-tokenizer still splits on them).
 */
export const isControlWhitespace = (codePoint: number): boolean => codePoint === 0x0b || codePoint === 0x0c || codePoint === 0x85;
