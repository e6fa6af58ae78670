import { Command } from 'commander';
import { CheckpointReader, type CheckpointVariable, shapeText } from '../../lib/checkpoint/index.js';
import { table } from '../format.js';

/** `kbb ckpt ls` and `kbb ckpt diff`: what a TensorFlow checkpoint holds, like tf.train.list_variables. */
export function checkpointCommand(): Command {
  const command = new Command('ckpt').description('inspect TensorFlow checkpoints (PREFIX = path/model.ckpt-N, without .index)');
  command.addCommand(
    new Command('ls')
      .description('list variables: name, dtype, shape')
      .argument('<prefix>', 'checkpoint prefix')
      .option('--json', 'one JSON object per variable instead of a table')
      .action(async (prefix: string, options: { readonly json?: boolean }) => {
        const reader = await CheckpointReader.open(prefix);
        try {
          if (options.json) {
            for (const v of reader.variables) process.stdout.write(`${JSON.stringify({ name: v.name, dtype: v.dtype, shape: v.shape })}\n`);
          } else {
            process.stdout.write(`${table(['name', 'dtype', 'shape', 'elements'], reader.variables.map((v) => [v.name, v.dtype, shapeText(v.shape), v.size]))}\n`);
            process.stdout.write(`${reader.variables.length} variables, ${reader.variables.reduce((n, v) => n + v.size, 0).toLocaleString('en-US')} elements, ${reader.header.numShards} data shard(s)\n`);
          }
        } finally {
          await reader.close();
        }
      }),
  );
  command.addCommand(
    new Command('diff')
      .description('compare two checkpoints: variables added, removed, reshaped, and the largest absolute difference of each shared one')
      .argument('<a>', 'first checkpoint prefix')
      .argument('<b>', 'second checkpoint prefix')
      .action(async (a: string, b: string) => {
        const [left, right] = await Promise.all([CheckpointReader.open(a), CheckpointReader.open(b)]);
        try {
          const rows: (string | number)[][] = [];
          const names = new Set([...left.variables, ...right.variables].map((v) => v.name));
          for (const name of [...names].sort()) {
            const l = left.has(name) ? left.variable(name) : undefined;
            const r = right.has(name) ? right.variable(name) : undefined;
            if (!l) rows.push([name, 'added', shapeText(r!.shape), '']);
            else if (!r) rows.push([name, 'removed', shapeText(l.shape), '']);
            else if (l.dtype !== r.dtype || shapeText(l.shape) !== shapeText(r.shape)) rows.push([name, 'reshaped', `${l.dtype} ${shapeText(l.shape)} → ${r.dtype} ${shapeText(r.shape)}`, '']);
            else rows.push([name, 'same shape', shapeText(l.shape), await maxAbsDifference(left, right, l)]);
          }
          process.stdout.write(`${table(['name', 'change', 'shape', 'max |a − b|'], rows)}\n`);
        } finally {
          await Promise.all([left.close(), right.close()]);
        }
      }),
  );
  return command;
}

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
