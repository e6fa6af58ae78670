import { describe, expect, it } from 'vitest';
import { byCodePoints, compareCodePoints, withSortedKeys } from '../../lib/text/index.js';

// U+E000 (private use) is above every surrogate in UTF-16 units but below every astral code point.
const PRIVATE_USE = '\uE000';
const EMOJI = '\u{1F600}';

describe('code-point order (as Python compares str)', () => {
  it('puts astral characters after the whole BMP, where UTF-16 order puts them before U+E000', () => {
    expect([EMOJI, PRIVATE_USE, 'b', 'a'].sort()).toEqual(['a', 'b', EMOJI, PRIVATE_USE]);
    expect([EMOJI, PRIVATE_USE, 'b', 'a'].sort(compareCodePoints)).toEqual(['a', 'b', PRIVATE_USE, EMOJI]);
  });

  it('byCodePoints orders items by a key; withSortedKeys orders an object the way json.dumps(sort_keys=True) does', () => {
    const items = [{ name: EMOJI }, { name: PRIVATE_USE }, { name: 'z' }];
    expect(items.sort(byCodePoints((item) => item.name)).map((item) => item.name)).toEqual(['z', PRIVATE_USE, EMOJI]);
    expect(Object.keys(withSortedKeys({ [EMOJI]: 1, [PRIVATE_USE]: 2, b: 3, a: 4 }))).toEqual(['a', 'b', PRIVATE_USE, EMOJI]);
  });
});
