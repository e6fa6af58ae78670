import { join, relative } from 'node:path';
import { exportToHuggingFace } from '../../lib/convert/index.js';
import { corpusStats } from '../../lib/corpus/index.js';
import { packageRoot, sampleCorpusDir, sampleTokenizerDir } from '../../lib/package/index.js';
import {
  MARK_LEGEND,
  markedToken,
  readPretrainingRecords,
  recordTokens,
  recordVocab,
  SAMPLE_BUILD_SETTINGS,
  shardFileName,
} from '../../lib/pretraining/index.js';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { SAMPLE_TRAIN_FLAGS, TRAIN_PROGRESS_FIELDS, train, trainProgressFields } from '../../lib/train/index.js';
import { formatBytes } from '../format.js';
import { buildWithProgress } from '../io/build-with-progress.js';
import { deferredProgress } from '../io/deferred-progress.js';
import { defineCommand } from '../registry/command-definition.js';
import { describeBuild } from '../views/build-summary.js';

/**
 * `npm start`: the whole pipeline on the corpus and vocabulary kbb ships: TFRecords with
 * `SAMPLE_BUILD_SETTINGS` (KoBigBird's builder settings scaled to a small corpus), a tiny BigBird
 * trained on them with `SAMPLE_TRAIN_FLAGS`, and its export to a Hugging Face folder.
 */
export const demoCommand = defineCommand({
  path: ['demo'],
  description: 'the whole pipeline on the embedded sample: build TFRecords, train a tiny BigBird, export it to Hugging Face (what `npm start` runs)',
  flags: [
    {
      name: 'output_dir',
      type: 'path',
      value: 'dir',
      default: join(packageRoot, 'out', 'sample'),
      description: 'tfrecords/, model/ and hf/ go here (replaced on every run)',
    },
  ],
  async run(options, io) {
    const shown = (p: string): string => relative(process.cwd(), p) || p;
    const tfrecords = join(options.output_dir, 'tfrecords');
    const model = join(options.output_dir, 'model');
    const hf = join(options.output_dir, 'hf');

    io.text('1. corpus and tokenizer');
    const stats = await corpusStats(sampleCorpusDir);
    io.text(`corpus    ${shown(sampleCorpusDir)}`);
    io.table(
      ['file', 'documents', 'sentences', 'bytes'],
      stats.files.map((f) => [relative(sampleCorpusDir, f.path), f.documents, f.sentences, f.bytes]),
    );
    io.text(`tokenizer ${shown(sampleTokenizerDir)}`);

    io.text('\n2. pretraining data');
    const manifest = await buildWithProgress(
      { ...SAMPLE_BUILD_SETTINGS, inputDir: sampleCorpusDir, tokenizerDir: sampleTokenizerDir, outputDir: tfrecords },
      io,
    );
    io.text(describeBuild(manifest));
    const tokenizer = await loadTokenizer(sampleTokenizerDir);
    const firstShard = shardFileName(0, SAMPLE_BUILD_SETTINGS.numShards);
    for await (const record of readPretrainingRecords(join(tfrecords, firstShard), recordVocab(tokenizer), { limit: 1 })) {
      const marked = recordTokens(record, tokenizer.idToToken).map(markedToken);
      io.text(`first example (${firstShard}; ${MARK_LEGEND}):`);
      io.text(marked.slice(0, 48).join(' ') + (marked.length > 48 ? ' …' : ''));
    }

    io.text('\n3. training');
    const progress = deferredProgress(io, { label: 'training', unit: 'items', extra: TRAIN_PROGRESS_FIELDS });
    const trained = await train({
      flags: { ...SAMPLE_TRAIN_FLAGS, data_dir: tfrecords, output_dir: model, tokenizer_dir: sampleTokenizerDir, overwrite: true },
      signal: io.signal,
      onProgress: (p) => progress.update(p.step, p.totalSteps, trainProgressFields(p)),
    }).finally(progress.stop);
    const { config } = trained;
    io.text(
      `model     BigBird, ${config.num_hidden_layers} layers of width ${config.hidden_size}, ${config.vocab_size.toLocaleString('en-US')} words, ` +
        `${trained.backend.backend} backend`,
    );
    io.text(
      `trained   ${trained.finalStep} steps of ${SAMPLE_TRAIN_FLAGS.train_batch_size} examples: loss ${trained.firstLoss?.toFixed(4)} → ${trained.lastLoss?.toFixed(4)}`,
    );
    io.text(`wrote     ${trained.checkpoints.map((p) => shown(p)).join(', ')}`);

    io.text('\n4. export to Hugging Face');
    const exported = await exportToHuggingFace({ checkpointDir: model, outputDir: hf, overwrite: true });
    io.text(
      `exported  ${shown(exported.checkpointPrefix)} as ${exported.plan.architecture} (${formatBytes(exported.plan.totalBytes)}) to ${shown(exported.outputDir)}:`,
    );
    for (const file of exported.files) io.text(`  ${shown(file)}`);

    io.text('');
    io.text(
      `next: npx kbb (the kbb> prompt)  ·  npx kbb watch ${shown(model)}  ·  npx kbb tfrecord show ${shown(join(tfrecords, firstShard))}  ·  npx kbb help`,
    );
  },
});
