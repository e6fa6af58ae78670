import { CheckpointReader, diffCheckpoints } from '../../lib/checkpoint/index.js';
import { shapeText } from '../../lib/tensor/index.js';
import { defineCommand } from '../registry/command-definition.js';

/** `kbb ckpt ls`: what a TensorFlow checkpoint holds, like tf.train.list_variables. */
export const checkpointLsCommand = defineCommand({
  path: ['ckpt', 'ls'],
  description: 'list variables: name, dtype, shape',
  arguments: [{ name: 'prefix', type: 'path', description: 'checkpoint prefix (local or gs://bucket/…)' }],
  flags: [{ name: 'json', type: 'boolean', description: 'one JSON object per variable instead of a table' }],
  async run({ prefix, json }, io) {
    const reader = await CheckpointReader.open(prefix);
    try {
      if (json) {
        for (const v of reader.variables) io.json({ name: v.name, dtype: v.dtype, shape: v.shape });
      } else {
        io.table(
          ['name', 'dtype', 'shape', 'elements'],
          reader.variables.map((v) => [v.name, v.dtype, shapeText(v.shape), v.size]),
        );
        io.text(
          `${reader.variables.length} variables, ${reader.variables.reduce((n, v) => n + v.size, 0).toLocaleString('en-US')} elements, ${reader.header.numShards} data shard(s)`,
        );
      }
    } finally {
      await reader.close();
    }
  },
});

/** `kbb ckpt diff`: variables added, removed, reshaped, and how far the shared ones moved. */
export const checkpointDiffCommand = defineCommand({
  path: ['ckpt', 'diff'],
  description: 'compare two checkpoints: variables added, removed, reshaped, and the largest absolute difference of each shared one',
  arguments: [
    { name: 'a', type: 'path', description: 'first checkpoint prefix (local or gs://bucket/…)' },
    { name: 'b', type: 'path', description: 'second checkpoint prefix (local or gs://bucket/…)' },
  ],
  async run({ a, b }, io) {
    const [left, right] = await Promise.all([CheckpointReader.open(a), CheckpointReader.open(b)]);
    try {
      const rows = await diffCheckpoints(left, right, { signal: io.signal });
      io.table(
        ['name', 'change', 'shape', 'max |a − b|'],
        rows.map((row) => {
          const shape =
            row.change === 'added'
              ? shapeText(row.b!.shape)
              : row.change === 'reshaped'
                ? `${row.a!.dtype} ${shapeText(row.a!.shape)} → ${row.b!.dtype} ${shapeText(row.b!.shape)}`
                : shapeText(row.a!.shape);
          const difference = typeof row.difference === 'number' ? (row.difference === 0 ? '0' : row.difference.toPrecision(4)) : (row.difference ?? '');
          return [row.name, row.change, shape, difference];
        }),
      );
    } finally {
      await Promise.all([left.close(), right.close()]);
    }
  },
});
