import { Command } from 'commander';
import { importFromHuggingFace, shapeText } from '../../lib/checkpoint/index.js';
import { table } from '../format.js';
import { byteProgress, type ByteProgress } from '../progress.js';

/** `kbb import-hf`: a Hugging Face BigBird folder → a TF checkpoint folder, to go on pretraining it. */
export function importHfCommand(): Command {
  return new Command('import-hf')
    .description('Hugging Face BigBird folder (config.json + model.safetensors) → TF checkpoint folder the KoBigBird trainer and kbb export read')
    .requiredOption('--hf_dir <dir>', 'the Hugging Face model folder')
    .requiredOption('--output_dir <dir>', 'where model.ckpt-STEP, checkpoint, pretrain_config.json and tokenizer/ go')
    .option('--step <n>', 'global step of the written checkpoint', (v) => Number.parseInt(v, 10), 0)
    .option('--overwrite', 'replace a checkpoint of that step already there')
    .action(async (flags: { readonly hf_dir: string; readonly output_dir: string; readonly step: number; readonly overwrite?: boolean }) => {
      let bar: ByteProgress | undefined;
      const result = await importFromHuggingFace({
        hfDir: flags.hf_dir,
        outputDir: flags.output_dir,
        step: flags.step,
        overwrite: flags.overwrite,
        onProgress: (done, total) => {
          bar ??= byteProgress('import', total);
          bar.update(done);
        },
      }).finally(() => bar?.stop());
      const { plan } = result;
      process.stdout.write(`${table(['Hugging Face parameter', 'shape', 'TF variable', 'shape '], plan.rows.map((r) => [r.hfName, shapeText(r.hfShape), r.transpose ? `${r.tfName} (transposed)` : r.tfName, shapeText(r.tfShape)]))}\n\n`);
      for (const s of plan.skipped) process.stdout.write(`not imported: ${s.name} ${shapeText(s.shape)}: ${s.reason}\n`);
      if (plan.absent.length > 0) process.stdout.write(`absent (a MaskedLM model has no NSP head; warm start initialises them fresh): ${plan.absent.join(', ')}\n`);
      process.stdout.write(`wrote ${result.checkpointPrefix} (${plan.rows.length} variables + global_step):\n`);
      for (const file of result.files) process.stdout.write(`  ${file}\n`);
      for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
    });
}
