import { describe, expect, it } from 'vitest';
import { isPythonWhitespace, pyStrip } from '../../lib/text/index.js';

// Python's str.isspace() set, as listed in the spec (§1.4).
const PYTHON_WHITESPACE = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
  0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];

const char = (cp: number): string => String.fromCodePoint(cp);

describe('pyStrip: Python str.strip()', () => {
  it('strips every character of the spec table, from both ends', () => {
    for (const cp of PYTHON_WHITESPACE) {
      expect(pyStrip(`${char(cp)}${char(cp)}가 나${char(cp)}`), `U+${cp.toString(16)}`).toBe(`가 나`);
    }
  });

  it('treats no other code point as whitespace (all of Unicode checked)', () => {
    const expected = new Set(PYTHON_WHITESPACE);
    const wrong: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const stripped = pyStrip(`${char(cp)}x`) === 'x';
      if (stripped !== expected.has(cp) || isPythonWhitespace(cp) !== expected.has(cp)) wrong.push(cp);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps what JavaScript trim() would remove or people mistake for space: U+FEFF, U+200B, U+180E, U+2060, U+00AD', () => {
    for (const cp of [0xfeff, 0x200b, 0x180e, 0x2060, 0x00ad]) {
      expect(pyStrip(`${char(cp)}가${char(cp)}`)).toBe(`${char(cp)}가${char(cp)}`);
    }
    expect('\ufeff가'.trim()).toBe('가'); // the difference that makes trim() wrong here
  });

  it('keeps inner whitespace and returns empty for all-whitespace strings', () => {
    expect(pyStrip(' \t가\u3000나\n ')).toBe('가\u3000나');
    expect(pyStrip('\u3000 \u2028\u0085\x1c')).toBe('');
    expect(pyStrip('')).toBe('');
    expect(pyStrip('😀')).toBe('😀');
  });
});
