import { STAGE_DEFAULTS, STAGE_LAYOUT, type StagePhase, stage } from '../../lib/cloud/index.js';
import { formatBytes } from '../format.js';
import { type DeferredProgress, deferredProgress } from '../io/deferred-progress.js';
import { defineCommand } from '../registry/command-definition.js';

/** `kbb stage`: a build, an init checkpoint and a tokenizer into a bucket, resumable and verified. */
export const stageCommand = defineCommand({
  path: ['stage'],
  description:
    'upload a build folder, an init checkpoint and a tokenizer to gs://BUCKET/PREFIX in parallel; skips what is there already, verifies every object',
  arguments: [{ name: 'destination', type: 'path', description: 'gs://bucket/prefix to stage under' }],
  flags: [
    { name: 'data_dir', type: 'path', value: 'dir', description: `a build folder (build-tfrecord --output_dir) → DEST/${STAGE_LAYOUT.data}/` },
    {
      name: 'init_checkpoint',
      type: 'path',
      value: 'prefix',
      description: `a checkpoint prefix (path/bert_model.ckpt) → DEST/${STAGE_LAYOUT.initCheckpoint}/bert_model.ckpt.*`,
    },
    { name: 'tokenizer_dir', type: 'path', value: 'dir', description: `a tokenizer folder → DEST/${STAGE_LAYOUT.tokenizer}/` },
    { name: 'concurrency', type: 'int', value: 'n', default: STAGE_DEFAULTS.concurrency, description: 'uploads at once' },
    { name: 'json', type: 'boolean', description: 'print the result as JSON' },
  ],
  async run(args, io) {
    const labels: Record<StagePhase, string> = { checking: 'checking', uploading: 'uploading', verifying: 'verifying' };
    let phase: StagePhase | undefined;
    let bar: DeferredProgress | undefined;
    const result = await stage({
      destination: args.destination,
      ...(args.data_dir === undefined ? {} : { dataDir: args.data_dir }),
      ...(args.init_checkpoint === undefined ? {} : { initCheckpoint: args.init_checkpoint }),
      ...(args.tokenizer_dir === undefined ? {} : { tokenizerDir: args.tokenizer_dir }),
      concurrency: args.concurrency,
      signal: io.signal,
      onProgress: (p) => {
        if (p.phase !== phase) {
          bar?.stop();
          phase = p.phase;
          bar = deferredProgress(io, { label: labels[p.phase], unit: 'bytes', extra: ['files'] });
        }
        bar!.update(p.bytes, p.totalBytes, { files: `${p.files}/${p.totalFiles}` });
      },
    }).finally(() => bar?.stop());
    if (args.json) io.json(result, { indent: 2 });
    else {
      const uploaded = result.files.filter((f) => f.action === 'uploaded').length;
      const total = result.files.reduce((sum, f) => sum + f.size, 0);
      const rate = result.uploadSeconds > 0 ? `, ${formatBytes(result.uploadedBytes / result.uploadSeconds)}/s` : '';
      io.text(
        `staged    ${result.files.length} files, ${formatBytes(total)} under ${args.destination}: ${uploaded} uploaded (${formatBytes(result.uploadedBytes)} in ${result.uploadSeconds.toFixed(1)} s${rate}), ${result.files.length - uploaded} already there`,
      );
      if (result.mismatches.length === 0) io.text(`verified  ${result.files.length} objects: size and CRC-32C match the local files`);
      const { dataDir, initCheckpoint, tokenizerDir } = result.paths;
      if (dataDir) io.text(`--data_dir=${dataDir}`);
      if (initCheckpoint) io.text(`--init_checkpoint=${initCheckpoint}`);
      if (tokenizerDir) io.text(`--tokenizer_dir=${tokenizerDir}`);
    }
    if (result.mismatches.length > 0)
      throw new Error(`${result.mismatches.length} object(s) differ from their local files; run kbb stage again:\n  ${result.mismatches.join('\n  ')}`);
  },
});
