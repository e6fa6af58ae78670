import type { TpuPlanInputs } from './tpu-checks.js';

/** Where the files `readTpuPlanInputs` read are, and where the plan should see them. */
export interface TpuPlanRelocation {
  /** The folder they were read from: a local copy of the bucket (`stage` into a local destination). */
  readonly from: string;
  /** Where the same files are for the TPU VM: `gs://bucket` or `gs://bucket/prefix`. */
  readonly to: string;
}

/**
 * The inputs as they read from another place holding the same files: every path under `from`
 * (the flags' paths, the data files and records, the tokenizer and checkpoint, read errors) is
 * named under `to` instead, and nothing else changes. With a local folder standing for a bucket,
 * the checks and the plan then see the `gs://` paths the TPU VM will read. Pure.
 */
export function relocateTpuPlanInputs(inputs: TpuPlanInputs, { from, to }: TpuPlanRelocation): TpuPlanInputs {
  const base = from.replace(/\/+$/, '');
  const target = to.replace(/\/+$/, '');
  // A path is under `from` when it is `from` itself or goes on with a separator: /tmp/bucket2 is not under /tmp/bucket.
  const move = (path: string): string => (path === base ? target : path.startsWith(`${base}/`) ? target + path.slice(base.length) : path);
  // In a message the path ends where a separator, a space or punctuation follows it.
  const inText = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[/\\s:,;)'"])`, 'g');
  const moveText = (text: string): string => text.replace(inText, target);
  const { flags, data, tokenizer, checkpoint } = inputs;
  return {
    ...inputs,
    flags: {
      ...flags,
      data_dir: move(flags.data_dir),
      output_dir: move(flags.output_dir),
      tokenizer_dir: move(flags.tokenizer_dir),
      init_checkpoint: flags.init_checkpoint === null ? null : move(flags.init_checkpoint),
    },
    readErrors: inputs.readErrors.map(moveText),
    ...(data
      ? {
          data: {
            ...data,
            dir: move(data.dir),
            files: data.files.map(move),
            records: data.records.map((record) => ({ ...record, file: move(record.file) })),
          },
        }
      : {}),
    ...(tokenizer ? { tokenizer: { ...tokenizer, dir: move(tokenizer.dir) } } : {}),
    ...(checkpoint ? { checkpoint: { ...checkpoint, prefix: move(checkpoint.prefix) } } : {}),
  };
}
