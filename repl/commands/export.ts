import { exportToHuggingFace, HF_EXPORT_DEFAULTS, type HfExportSkip } from '../../lib/convert/index.js';
import { shapeText } from '../../lib/tensor/index.js';
import { formatBytes } from '../format.js';
import { deferredProgress } from '../io/deferred-progress.js';
import { defineCommand } from '../registry/command-definition.js';

/** Skipped variables grouped by reason: a checkpoint mid-training has two optimizer slots per weight. */
export function skippedSummary(skipped: readonly HfExportSkip[]): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} ${reason}`).join(', ');
}

/** `kbb export`: KoBigBird's `convert_bigbird_tf_to_pt.py`, same flags and defaults, no Python. */
export const exportCommand = defineCommand({
  path: ['export'],
  description: 'TF BigBird checkpoint folder → Hugging Face folder (model.safetensors, config.json, tokenizer files)',
  flags: [
    {
      name: 'checkpoint_dir',
      type: 'path',
      value: 'dir',
      required: true,
      description: "TF checkpoint folder, local or gs://bucket/prefix; its newest checkpoint (the 'checkpoint' file) is exported",
    },
    { name: 'output_dir', type: 'path', value: 'dir', required: true, description: 'the Hugging Face folder to write (local or gs://)' },
    {
      name: 'big_bird_config_file',
      type: 'path',
      value: 'file',
      default: HF_EXPORT_DEFAULTS.bigBirdConfigFile,
      description: 'pretrain_config.json or an HF config.json; relative to --checkpoint_dir',
    },
    { name: 'tokenizer_dir', type: 'path', value: 'dir', description: 'tokenizer folder (default: CHECKPOINT_DIR/tokenizer)' },
    { name: 'tokenizer', type: 'boolean', negatable: true, description: 'write no tokenizer files' },
    { name: 'step_on_output', type: 'boolean', description: 'append the step to --output_dir: model.ckpt-600000 → OUTPUT_DIR-600k' },
    { name: 'pytorch_bin', type: 'boolean', description: 'also write pytorch_model.bin (torch.load, weights_only=True)' },
    { name: 'checkpoint', type: 'path', value: 'prefix', description: 'export this checkpoint prefix instead of the newest' },
    { name: 'overwrite', type: 'boolean', description: 'replace a model already in the output folder' },
  ],
  async run(flags, io) {
    const progress = deferredProgress(io, { label: 'export', unit: 'bytes' });
    const started = performance.now();
    const result = await exportToHuggingFace({
      checkpointDir: flags.checkpoint_dir,
      outputDir: flags.output_dir,
      bigBirdConfigFile: flags.big_bird_config_file,
      tokenizerDir: flags.tokenizer ? flags.tokenizer_dir : null,
      stepOnOutput: flags.step_on_output,
      pytorchBin: flags.pytorch_bin,
      checkpoint: flags.checkpoint,
      overwrite: flags.overwrite,
      onProgress: progress.update,
    }).finally(progress.stop);
    const { plan } = result;
    io.table(
      ['TF variable', 'shape', 'Hugging Face parameter', 'shape '],
      plan.rows.map((r) => [r.tfName, shapeText(r.tfShape), r.transpose ? `${r.hfName} (transposed)` : r.hfName, shapeText(r.hfShape)]),
    );
    io.text('');
    if (plan.skipped.length > 0) io.text(`not exported: ${skippedSummary(plan.skipped)}`);
    const seconds = (performance.now() - started) / 1000;
    io.text(
      `exported ${result.checkpointPrefix} as ${plan.architecture} (${plan.rows.length} tensors, ${formatBytes(plan.totalBytes)}) in ${seconds.toFixed(1)} s to ${result.outputDir}:`,
    );
    for (const file of result.files) io.text(`  ${file}`);
    for (const note of result.notes) io.text(`note: ${note}`);
  },
});
