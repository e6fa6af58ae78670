/** The prompt's text and cursor (a UTF-16 index; Hangul syllables are single code units). */
export interface LineState {
  readonly text: string;
  readonly cursor: number;
}

export const emptyLine: LineState = { text: '', cursor: 0 };

export const lineOf = (text: string): LineState => ({ text, cursor: text.length });

/** Code points, so a cursor step never splits a surrogate pair (emoji, rare Hanja). */
const previousBoundary = (text: string, at: number): number =>
  at >= 2 && /[\uDC00-\uDFFF]/.test(text[at - 1]) && /[\uD800-\uDBFF]/.test(text[at - 2]) ? at - 2 : Math.max(0, at - 1);
const nextBoundary = (text: string, at: number): number =>
  /[\uD800-\uDBFF]/.test(text[at] ?? '') && /[\uDC00-\uDFFF]/.test(text[at + 1] ?? '') ? at + 2 : Math.min(text.length, at + 1);

export const insertText = (s: LineState, text: string): LineState => ({
  text: s.text.slice(0, s.cursor) + text + s.text.slice(s.cursor),
  cursor: s.cursor + text.length,
});

export function deleteBackward(s: LineState): LineState {
  const at = previousBoundary(s.text, s.cursor);
  return { text: s.text.slice(0, at) + s.text.slice(s.cursor), cursor: at };
}

export function deleteForward(s: LineState): LineState {
  const at = nextBoundary(s.text, s.cursor);
  return { text: s.text.slice(0, s.cursor) + s.text.slice(at), cursor: s.cursor };
}

export const moveLeft = (s: LineState): LineState => ({ ...s, cursor: previousBoundary(s.text, s.cursor) });
export const moveRight = (s: LineState): LineState => ({ ...s, cursor: nextBoundary(s.text, s.cursor) });
export const moveHome = (s: LineState): LineState => ({ ...s, cursor: 0 });
export const moveEnd = (s: LineState): LineState => ({ ...s, cursor: s.text.length });

/** Ctrl-U: everything before the cursor. */
export const deleteToStart = (s: LineState): LineState => ({ text: s.text.slice(s.cursor), cursor: 0 });
/** Ctrl-K: everything after the cursor. */
export const deleteToEnd = (s: LineState): LineState => ({ text: s.text.slice(0, s.cursor), cursor: s.cursor });

/** Ctrl-W: the word before the cursor and the spaces after it. */
export function deleteWordBackward(s: LineState): LineState {
  const before = s.text.slice(0, s.cursor).replace(/\S*\s*$/, '');
  return { text: before + s.text.slice(s.cursor), cursor: before.length };
}

/** Replaces text[start, cursor) with `replacement` (what a completion does). */
export const replaceBeforeCursor = (s: LineState, start: number, replacement: string): LineState => ({
  text: s.text.slice(0, start) + replacement + s.text.slice(s.cursor),
  cursor: start + replacement.length,
});
