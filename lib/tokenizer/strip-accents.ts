import { decomposeHangul, HANGUL_FIRST, HANGUL_LAST } from './hangul.js';
import { STRIP_ACCENTS } from './strip-accents.generated.js';

function buildTable(): ReadonlyMap<number, string> {
  const table = new Map<number, string>();
  for (const [first, last] of STRIP_ACCENTS.removed) for (let cp = first; cp <= last; cp++) table.set(cp, '');
  for (const [cp, text] of STRIP_ACCENTS.decomposed) table.set(cp, text);
  return table;
}

const TABLE = buildTable();

/**
 * What BertNormalizer's strip_accents leaves of one code point, from the Rust library's own tables
 * rather than V8's (see scripts/gen-strip-accents.ts), so it does not change with the Node version.
 *
 * Known gap, left on purpose: the Rust library decomposes the whole text, so NFD's canonical reordering
 * can swap two adjacent surviving marks of different combining classes; here each character is handled
 * alone. Only combining marks that strip_accents keeps can be affected (such as the musical-symbol
 * stems U+1D165…, U+16FF0/1), so ordinary text tokenizes the same.
 */
export function stripAccents(codePoint: number): string {
  if (codePoint >= HANGUL_FIRST && codePoint <= HANGUL_LAST) return decomposeHangul(codePoint);
  return TABLE.get(codePoint) ?? String.fromCodePoint(codePoint);
}
