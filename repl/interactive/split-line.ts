/** One word of a command line, with where it was in the line. */
export interface LineWord {
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

export interface SplitLine {
  readonly words: readonly LineWord[];
  /** The line ends inside a quote (the last word is unfinished). */
  readonly unterminatedQuote: boolean;
}

/**
 * Splits a line into words the way a shell does for plain arguments: whitespace separates,
 * '…' keeps everything literally, "…" keeps spaces and honours \" and \\, and a backslash outside
 * quotes escapes the next character. No variables, globs or pipes: kbb has no use for them.
 */
export function splitLine(line: string): SplitLine {
  const words: LineWord[] = [];
  let value = '';
  let start = -1;
  let quote: "'" | '"' | undefined;
  const finish = (end: number): void => {
    if (start >= 0) words.push({ value, start, end });
    value = '';
    start = -1;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else value += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) value += line[++i];
      else value += ch;
    } else if (/\s/.test(ch)) {
      finish(i);
    } else {
      if (start < 0) start = i;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\' && i + 1 < line.length) value += line[++i];
      else value += ch;
    }
  }
  finish(line.length);
  return { words, unterminatedQuote: quote !== undefined };
}

/** The words of a line to run; an unclosed quote is an error rather than a guess. */
export function lineWords(line: string): string[] {
  const split = splitLine(line);
  if (split.unterminatedQuote) throw new Error('unclosed quote in the command line');
  return split.words.map((w) => w.value);
}

/** A word as typed so that splitLine gives it back (for completion of names with spaces). */
export const quoteWord = (word: string): string => word.replace(/([\s'"\\])/g, '\\$1');
