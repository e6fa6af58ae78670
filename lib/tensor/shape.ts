/** A tensor shape as the tables and errors show it: `[768, 3072]`, `[]` for a scalar. */
export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((dim, i) => dim === b[i]);

/** Elements of a tensor of this shape. */
export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
