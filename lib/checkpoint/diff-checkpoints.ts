import { shapeText } from '../tensor/shape.js';
import type { CheckpointReader, CheckpointVariable } from './tensor-bundle-reader.js';

/** How a variable differs between two checkpoints. */
export type CheckpointChange = 'added' | 'removed' | 'reshaped' | 'same shape';

export interface CheckpointDiffRow {
  readonly name: string;
  readonly change: CheckpointChange;
  /** The variable in the first checkpoint (absent when added). */
  readonly a?: Pick<CheckpointVariable, 'dtype' | 'shape'>;
  /** The variable in the second checkpoint (absent when removed). */
  readonly b?: Pick<CheckpointVariable, 'dtype' | 'shape'>;
  /**
   * For a variable of the same dtype and shape in both: the largest |a − b| over its elements, or
   * for string and unknown dtypes whether the bytes are identical.
   */
  readonly difference?: number | 'identical' | 'differs';
}

/**
 * Every variable of either checkpoint, by name: added, removed, reshaped (dtype or shape changed), or
 * of the same shape with how far it moved. Values are read one variable at a time.
 */
export async function diffCheckpoints(
  left: CheckpointReader,
  right: CheckpointReader,
  options: { readonly signal?: AbortSignal } = {},
): Promise<CheckpointDiffRow[]> {
  const rows: CheckpointDiffRow[] = [];
  const names = new Set([...left.variables, ...right.variables].map((v) => v.name));
  for (const name of [...names].sort()) {
    options.signal?.throwIfAborted();
    const l = left.has(name) ? left.variable(name) : undefined;
    const r = right.has(name) ? right.variable(name) : undefined;
    const a = l && { dtype: l.dtype, shape: l.shape };
    const b = r && { dtype: r.dtype, shape: r.shape };
    if (!l) rows.push({ name, change: 'added', b });
    else if (!r) rows.push({ name, change: 'removed', a });
    else if (l.dtype !== r.dtype || shapeText(l.shape) !== shapeText(r.shape)) rows.push({ name, change: 'reshaped', a, b });
    else rows.push({ name, change: 'same shape', a, b, difference: await maxAbsDifference(left, right, l) });
  }
  return rows;
}

async function maxAbsDifference(left: CheckpointReader, right: CheckpointReader, v: CheckpointVariable): Promise<number | 'identical' | 'differs'> {
  if (v.dtype === 'string' || v.dtype.startsWith('unknown')) {
    const same = Buffer.from(await left.readBytes(v.name)).equals(Buffer.from(await right.readBytes(v.name)));
    return same ? 'identical' : 'differs';
  }
  const [a, b] = await Promise.all([left.read(v.name), right.read(v.name)]);
  const x = Array.from(a.values as ArrayLike<number | bigint | boolean>, Number);
  const y = Array.from(b.values as ArrayLike<number | bigint | boolean>, Number);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max;
}
