/**
 * Orders strings by Unicode code point, as Python compares `str` (and protobuf orders map keys).
 * JavaScript's default sort compares UTF-16 units, which puts U+E000–U+FFFF after astral characters.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1; // an astral code point is above every BMP one
    return x - y;
  }
  return a.length - b.length;
}

/** A comparator of items by a string of each, in code-point order: `names.sort(byCodePoints((v) => v.name))`. */
export const byCodePoints =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number =>
    compareCodePoints(key(a), key(b));

/** An object with its keys in code-point order, as Python's `json.dumps(sort_keys=True)` writes them. */
export function withSortedKeys<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(byCodePoints(([key]) => key))) as T;
}
