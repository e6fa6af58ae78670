/** A piece of input: either plain text to normalize and split, or one added (special) token. */
export type Segment =
  | { readonly kind: 'text'; readonly start: number; readonly end: number }
  | { readonly kind: 'added'; readonly start: number; readonly end: number; readonly id: number };

/**
 * Finds literal occurrences of added tokens in raw text (before normalization), leftmost-longest,
 * as the Rust AddedVocabulary does for tokens that are not normalized. `[MASK]` typed in a corpus
 * therefore becomes the mask token, exactly as in the reference builder.
 */
export class AddedTokenMatcher {
  private readonly byFirstChar = new Map<number, { readonly content: string; readonly id: number }[]>();

  constructor(tokens: ReadonlyMap<string, number>) {
    for (const [content, id] of tokens) {
      // An empty token would match everywhere without moving on; the Rust library never matches one either.
      if (content.length === 0) continue;
      const key = content.charCodeAt(0);
      const list = this.byFirstChar.get(key) ?? [];
      list.push({ content, id });
      this.byFirstChar.set(key, list);
    }
    // Longest first, so the first hit at a position is the longest; sorted once (a list may hold thousands).
    for (const list of this.byFirstChar.values()) list.sort((a, b) => b.content.length - a.content.length);
  }

  /** The longest added token that starts at `at` and ends by `to`, if any. */
  matchAt(text: string, at: number, to = text.length): { readonly id: number; readonly length: number } | undefined {
    const hit = this.byFirstChar.get(text.charCodeAt(at))?.find((t) => at + t.content.length <= to && text.startsWith(t.content, at));
    return hit === undefined ? undefined : { id: hit.id, length: hit.content.length };
  }

  split(text: string, from = 0, to = text.length): Segment[] {
    const segments: Segment[] = [];
    let plainStart = from;
    for (let i = from; i < to; ) {
      const hit = this.matchAt(text, i, to);
      if (!hit) {
        i++;
        continue;
      }
      if (plainStart < i) segments.push({ kind: 'text', start: plainStart, end: i });
      segments.push({ kind: 'added', start: i, end: i + hit.length, id: hit.id });
      i += hit.length;
      plainStart = i;
    }
    if (plainStart < to) segments.push({ kind: 'text', start: plainStart, end: to });
    return segments;
  }
}
