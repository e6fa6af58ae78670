import { join, relative } from 'node:path';
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
import { buildWithProgress } from '../io/build-with-progress.js';
import { defineCommand } from '../registry/command-definition.js';
import { describeBuild } from '../views/build-summary.js';

/**
 * `npm start`: the main job on the corpus and vocabulary kbb ships, with `SAMPLE_BUILD_SETTINGS`
 * (KoBigBird's shipped builder settings scaled to a small corpus).
 */
export const demoCommand = defineCommand({
  path: ['demo'],
  description: 'build pretraining TFRecords from the embedded sample corpus and print what was built (what `npm start` runs)',
  flags: [
    {
      name: 'output_dir',
      type: 'path',
      value: 'dir',
      default: join(packageRoot, 'out', 'sample-tfrecords'),
      description: 'where the shards go (replaced on every run)',
    },
  ],
  async run(options, io) {
    const shown = (p: string): string => relative(process.cwd(), p) || p;
    const stats = await corpusStats(sampleCorpusDir);
    io.text(`corpus    ${shown(sampleCorpusDir)}`);
    io.table(
      ['file', 'documents', 'sentences', 'bytes'],
      stats.files.map((f) => [relative(sampleCorpusDir, f.path), f.documents, f.sentences, f.bytes]),
    );
    io.text(`tokenizer ${shown(sampleTokenizerDir)}`);
    io.text('');
    const manifest = await buildWithProgress(
      { ...SAMPLE_BUILD_SETTINGS, inputDir: sampleCorpusDir, tokenizerDir: sampleTokenizerDir, outputDir: options.output_dir },
      io,
    );
    io.text(describeBuild(manifest));

    const tokenizer = await loadTokenizer(sampleTokenizerDir);
    const firstShard = shardFileName(0, SAMPLE_BUILD_SETTINGS.numShards);
    const first = join(options.output_dir, firstShard);
    for await (const record of readPretrainingRecords(first, recordVocab(tokenizer), { limit: 1 })) {
      const marked = recordTokens(record, tokenizer.idToToken).map(markedToken);
      io.text('');
      io.text(`first example (${firstShard}; ${MARK_LEGEND}):`);
      io.text(marked.slice(0, 48).join(' ') + (marked.length > 48 ? ' …' : ''));
    }
    io.text('');
    io.text(`next: npx kbb (the kbb> prompt)  ·  npx kbb tfrecord show ${shown(first)}  ·  npx kbb stats ${shown(options.output_dir)}  ·  npx kbb help`);
  },
});
