export const HANGUL_FIRST = 0xac00;
export const HANGUL_LAST = 0xd7a3;

const LEAD_BASE = 0x1100;
const VOWEL_BASE = 0x1161;
const TRAIL_BASE = 0x11a7;
const VOWEL_COUNT = 21;
const TRAIL_COUNT = 28;

/**
 * The canonical decomposition of a precomposed Hangul syllable into conjoining jamo (the Unicode
 * standard's arithmetic, fixed since Unicode 2.0, so no table is needed).
 */
export function decomposeHangul(codePoint: number): string {
  const index = codePoint - HANGUL_FIRST;
  const lead = LEAD_BASE + Math.floor(index / (VOWEL_COUNT * TRAIL_COUNT));
  const vowel = VOWEL_BASE + (Math.floor(index / TRAIL_COUNT) % VOWEL_COUNT);
  const trail = index % TRAIL_COUNT;
  return trail === 0 ? String.fromCharCode(lead, vowel) : String.fromCharCode(lead, vowel, TRAIL_BASE + trail);
}
