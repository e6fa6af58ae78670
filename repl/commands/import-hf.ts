import { HF_IMPORT_DEFAULTS, importFromHuggingFace } from '../../lib/convert/index.js';
import { shapeText } from '../../lib/tensor/index.js';
import { deferredProgress } from '../io/deferred-progress.js';
import { defineCommand } from '../registry/command-definition.js';

/** `kbb import-hf`: a Hugging Face BigBird folder → a TF checkpoint folder, to go on pretraining it. */
export const importHfCommand = defineCommand({
  path: ['import-hf'],
  description: 'Hugging Face BigBird folder (config.json + model.safetensors) → TF checkpoint folder the KoBigBird trainer and kbb export read',
  flags: [
    { name: 'hf_dir', type: 'path', value: 'dir', required: true, description: 'the Hugging Face model folder (local or gs://)' },
    {
      name: 'output_dir',
      type: 'path',
      value: 'dir',
      required: true,
      description: 'where model.ckpt-STEP, checkpoint, pretrain_config.json and tokenizer/ go (a folder or gs://bucket/prefix)',
    },
    { name: 'step', type: 'int', value: 'n', default: HF_IMPORT_DEFAULTS.step, description: 'global step of the written checkpoint' },
    { name: 'overwrite', type: 'boolean', description: 'replace a checkpoint of that step already there' },
  ],
  async run(flags, io) {
    const progress = deferredProgress(io, { label: 'import', unit: 'bytes' });
    const result = await importFromHuggingFace({
      hfDir: flags.hf_dir,
      outputDir: flags.output_dir,
      step: flags.step,
      overwrite: flags.overwrite,
      onProgress: progress.update,
    }).finally(progress.stop);
    const { plan } = result;
    io.table(
      ['Hugging Face parameter', 'shape', 'TF variable', 'shape '],
      plan.rows.map((r) => [r.hfName, shapeText(r.hfShape), r.transpose ? `${r.tfName} (transposed)` : r.tfName, shapeText(r.tfShape)]),
    );
    io.text('');
    for (const s of plan.skipped) io.text(`not imported: ${s.name} ${shapeText(s.shape)}: ${s.reason}`);
    if (plan.absent.length > 0) io.text(`absent (a MaskedLM model has no NSP head; warm start initialises them fresh): ${plan.absent.join(', ')}`);
    io.text(`wrote ${result.checkpointPrefix} (${plan.rows.length} variables + global_step):`);
    for (const file of result.files) io.text(`  ${file}`);
    for (const note of result.notes) io.text(`note: ${note}`);
  },
});
