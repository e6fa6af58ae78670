import { join, relative } from 'node:path';
import { corpusStats } from '../../lib/corpus/index.js';
import { shardFileName } from '../../lib/pretraining/index.js';
import { readPretrainingRecords, recordTokens, recordVocab } from '../../lib/stats/index.js';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { packageRoot, sampleCorpusDir, sampleTokenizerDir } from '../paths.js';
import { defineCommand } from '../registry/command-definition.js';
import { describeBuild, runBuild } from './build-tfrecord.js';
import { MARK_LEGEND, markedToken } from './tfrecord-show.js';

/**
 * `npm start`: the main job on the corpus and vocabulary kbb ships — KoBigBird's shipped builder
 * settings (whole words, 2-grams, 3 static masks, single segments) scaled to a small corpus.
 */
export const demoCommand = defineCommand<{ readonly output_dir: string }>({
  path: ['demo'],
  description: 'build pretraining TFRecords from the embedded sample corpus and print what was built (what `npm start` runs)',
  flags: [{ name: 'output_dir', type: 'path', value: 'dir', default: join(packageRoot, 'out', 'sample-tfrecords'), description: 'where the shards go (replaced on every run)' }],
  async run(options, io) {
    const shown = (p: string): string => relative(process.cwd(), p) || p;
    const stats = await corpusStats(sampleCorpusDir);
    io.text(`corpus    ${shown(sampleCorpusDir)}`);
    io.table(['file', 'documents', 'sentences', 'bytes'], stats.files.map((f) => [relative(sampleCorpusDir, f.path), f.documents, f.sentences, f.bytes]));
    io.text(`tokenizer ${shown(sampleTokenizerDir)}`);
    io.text('');
    const manifest = await runBuild(
      {
        input_dir: sampleCorpusDir,
        tokenizer_dir: sampleTokenizerDir,
        output_dir: options.output_dir,
        max_seq_length: 128,
        max_predictions_per_seq: 20,
        num_processes: 1,
        sentence_pair_prob: 0,
        short_seq_prob: 0,
        do_whole_word_mask: true,
        max_ngram_size: 2,
        dupe_factor: 3,
        masked_lm_prob: 0.15,
        seed: 12345,
        long_seq_threshold: 1.8,
        num_shards: 8,
        overwrite: true,
        token_cache_mb: 1024,
      },
      io,
    );
    io.text(describeBuild(manifest));

    const tokenizer = await loadTokenizer(sampleTokenizerDir);
    const first = join(options.output_dir, shardFileName(0, 8));
    for await (const record of readPretrainingRecords(first, recordVocab(tokenizer), { limit: 1 })) {
      const marked = recordTokens(record, tokenizer.idToToken).map(markedToken);
      io.text('');
      io.text(`first example (${shardFileName(0, 8)}; ${MARK_LEGEND}):`);
      io.text(marked.slice(0, 48).join(' ') + (marked.length > 48 ? ' …' : ''));
    }
    io.text('');
    io.text(`next: npx kbb (the kbb> prompt)  ·  npx kbb tfrecord show ${shown(first)}  ·  npx kbb stats ${shown(options.output_dir)}  ·  npx kbb help`);
  },
});
