/** A tensor shape as the tables and errors show it: `[768, 3072]`, `[]` for a scalar. */
export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((dim, i) => dim === b[i]);
