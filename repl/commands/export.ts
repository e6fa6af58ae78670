import { Command } from 'commander';
import { exportToHuggingFace, type HfExportSkip, shapeText } from '../../lib/checkpoint/index.js';
import { formatBytes, table } from '../format.js';
import { byteProgress, type ByteProgress } from '../progress.js';

/** Skipped variables grouped by reason: a checkpoint mid-training has two optimizer slots per weight. */
export function skippedSummary(skipped: readonly HfExportSkip[]): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} ${reason}`).join(', ');
}

interface ExportFlags {
  readonly checkpoint_dir: string;
  readonly output_dir: string;
  readonly big_bird_config_file: string;
  readonly tokenizer_dir?: string;
  readonly tokenizer: boolean;
  readonly step_on_output?: boolean;
  readonly pytorch_bin?: boolean;
  readonly checkpoint?: string;
  readonly overwrite?: boolean;
}

/** `kbb export`: KoBigBird's `convert_bigbird_tf_to_pt.py`, same flags and defaults, no Python. */
export function exportCommand(): Command {
  return new Command('export')
    .description('TF BigBird checkpoint folder → Hugging Face folder (model.safetensors, config.json, tokenizer files)')
    .requiredOption('--checkpoint_dir <dir>', "TF checkpoint folder; its newest checkpoint (the 'checkpoint' file) is exported")
    .requiredOption('--output_dir <dir>', 'the Hugging Face folder to write')
    .option('--big_bird_config_file <file>', 'pretrain_config.json or an HF config.json; relative to --checkpoint_dir', 'pretrain_config.json')
    .option('--tokenizer_dir <dir>', 'tokenizer folder (default: CHECKPOINT_DIR/tokenizer)')
    .option('--no-tokenizer', 'write no tokenizer files')
    .option('--step_on_output', "append the step to --output_dir: model.ckpt-600000 → OUTPUT_DIR-600k")
    .option('--pytorch_bin', 'also write pytorch_model.bin (torch.load, weights_only=True)')
    .option('--checkpoint <prefix>', 'export this checkpoint prefix instead of the newest')
    .option('--overwrite', 'replace a model already in the output folder')
    .action(async (flags: ExportFlags) => {
      let bar: ByteProgress | undefined;
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
        onProgress: (done, total) => {
          bar ??= byteProgress('export', total);
          bar.update(done);
        },
      }).finally(() => bar?.stop());
      const { plan } = result;
      process.stdout.write(`${table(['TF variable', 'shape', 'Hugging Face parameter', 'shape '], plan.rows.map((r) => [r.tfName, shapeText(r.tfShape), r.transpose ? `${r.hfName} (transposed)` : r.hfName, shapeText(r.hfShape)]))}\n\n`);
      if (plan.skipped.length > 0) process.stdout.write(`not exported: ${skippedSummary(plan.skipped)}\n`);
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`exported ${result.checkpointPrefix} as ${plan.architecture} (${plan.rows.length} tensors, ${formatBytes(plan.totalBytes)}) in ${seconds.toFixed(1)} s to ${result.outputDir}:\n`);
      for (const file of result.files) process.stdout.write(`  ${file}\n`);
      for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    });
}
