import { CheckpointReader, type CheckpointVariable, shapeText } from '../../lib/checkpoint/index.js';
import { defineCommand } from '../registry/command-definition.js';

/** `kbb ckpt ls`: what a TensorFlow checkpoint holds, like tf.train.list_variables. */
export const checkpointLsCommand = defineCommand<{ readonly prefix: string; readonly json?: boolean }>({
  path: ['ckpt', 'ls'],
  description: 'list variables: name, dtype, shape',
  arguments: [{ name: 'prefix', type: 'path', description: 'checkpoint prefix' }],
  flags: [{ name: 'json', type: 'boolean', description: 'one JSON object per variable instead of a table' }],
  async run({ prefix, json }, io) {
    const reader = await CheckpointReader.open(prefix);
    try {
      if (json) {
        for (const v of reader.variables) io.json({ name: v.name, dtype: v.dtype, shape: v.shape });
      } else {
        io.table(['name', 'dtype', 'shape', 'elements'], reader.variables.map((v) => [v.name, v.dtype, shapeText(v.shape), v.size]));
        io.text(`${reader.variables.length} variables, ${reader.variables.reduce((n, v) => n + v.size, 0).toLocaleString('en-US')} elements, ${reader.header.numShards} data shard(s)`);
      }
    } finally {
      await reader.close();
    }
  },
});

/** `kbb ckpt diff`: variables added, removed, reshaped, and how far the shared ones moved. */
export const checkpointDiffCommand = defineCommand<{ readonly a: string; readonly b: string }>({
  path: ['ckpt', 'diff'],
  description: 'compare two checkpoints: variables added, removed, reshaped, and the largest absolute difference of each shared one',
  arguments: [
    { name: 'a', type: 'path', description: 'first checkpoint prefix' },
    { name: 'b', type: 'path', description: 'second checkpoint prefix' },
  ],
  async run({ a, b }, io) {
    const [left, right] = await Promise.all([CheckpointReader.open(a), CheckpointReader.open(b)]);
    try {
      const rows: (string | number)[][] = [];
      const names = new Set([...left.variables, ...right.variables].map((v) => v.name));
      for (const name of [...names].sort()) {
        io.signal.throwIfAborted();
        const l = left.has(name) ? left.variable(name) : undefined;
        const r = right.has(name) ? right.variable(name) : undefined;
        if (!l) rows.push([name, 'added', shapeText(r!.shape), '']);
        else if (!r) rows.push([name, 'removed', shapeText(l.shape), '']);
        else if (l.dtype !== r.dtype || shapeText(l.shape) !== shapeText(r.shape)) rows.push([name, 'reshaped', `${l.dtype} ${shapeText(l.shape)} → ${r.dtype} ${shapeText(r.shape)}`, '']);
        else rows.push([name, 'same shape', shapeText(l.shape), await maxAbsDifference(left, right, l)]);
      }
      io.table(['name', 'change', 'shape', 'max |a − b|'], rows);
    } finally {
      await Promise.all([left.close(), right.close()]);
    }
  },
});

async function maxAbsDifference(left: CheckpointReader, right: CheckpointReader, v: CheckpointVariable): Promise<string> {
  if (v.dtype === 'string' || v.dtype.startsWith('unknown')) {
    const same = Buffer.from(await left.readBytes(v.name)).equals(Buffer.from(await right.readBytes(v.name)));
    return same ? 'identical' : 'differs';
  }
  const [a, b] = await Promise.all([left.read(v.name), right.read(v.name)]);
  const x = Array.from(a.values as ArrayLike<number | bigint | boolean>, Number);
  const y = Array.from(b.values as ArrayLike<number | bigint | boolean>, Number);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max === 0 ? '0' : max.toPrecision(4);
}
