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
      if (content.length === 0) continue;
      const key = content.charCodeAt(0);
      const list = this.byFirstChar.get(key) ?? [];
      list.push({ content, id });
      list.sort((a, b) => b.content.length - a.content.length);
      this.byFirstChar.set(key, list);
    }
  }

  split(text: string, from = 0, to = text.length): Segment[] {
    const segments: Segment[] = [];
    let plainStart = from;
    for (let i = from; i < to; ) {
      const candidates = this.byFirstChar.get(text.charCodeAt(i));
      const hit = candidates?.find((t) => i + t.content.length <= to && text.startsWith(t.content, i));
      if (!hit) {
        i++;
        continue;
      }
      if (plainStart < i) segments.push({ kind: 'text', start: plainStart, end: i });
      segments.push({ kind: 'added', start: i, end: i + hit.content.length, id: hit.id });
      i += hit.content.length;
      plainStart = i;
    }
    if (plainStart < to) segments.push({ kind: 'text', start: plainStart, end: to });
    return segments;
  }
}
