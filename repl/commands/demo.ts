import { join, relative } from 'node:path';
import { Command } from 'commander';
import { corpusStats } from '../../lib/corpus/index.js';
import { shardFileName } from '../../lib/pretraining/index.js';
import { floatValues, int64Values, readExamples } from '../../lib/tfrecord/index.js';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { table } from '../format.js';
import { packageRoot, sampleCorpusDir, sampleTokenizerDir } from '../paths.js';
import { describeBuild, runBuild } from './build-tfrecord.js';

/**
 * `npm start`: the main job on the corpus and vocabulary kbb ships — KoBigBird's shipped builder
 * settings (whole words, 2-grams, 3 static masks, single segments) scaled to a small corpus.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('build pretraining TFRecords from the embedded sample corpus and print what was built (what `npm start` runs)')
    .option('--output_dir <dir>', 'where the shards go (replaced on every run)', join(packageRoot, 'out', 'sample-tfrecords'))
    .action(async (options: { output_dir: string }) => {
      const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
      const shown = (p: string): string => relative(process.cwd(), p) || p;
      const stats = await corpusStats(sampleCorpusDir);
      out(`corpus    ${shown(sampleCorpusDir)}`);
      out(table(['file', 'documents', 'sentences', 'bytes'], stats.files.map((f) => [relative(sampleCorpusDir, f.path), f.documents, f.sentences, f.bytes])));
      out(`tokenizer ${shown(sampleTokenizerDir)}`);
      out();
      const manifest = await runBuild({
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
      });
      out(describeBuild(manifest));

      const tokenizer = await loadTokenizer(sampleTokenizerDir);
      for await (const example of readExamples(join(options.output_dir, shardFileName(0, 8)))) {
        const ids = int64Values(example, 'input_ids');
        const weights = floatValues(example, 'masked_lm_weights');
        const positions = new Set(int64Values(example, 'masked_lm_positions').filter((_, k) => weights[k] === 1));
        const shownTokens = ids.filter((id) => id !== 0).map((id, i) => (positions.has(i) ? `⟦${tokenizer.idToToken[id]}⟧` : tokenizer.idToToken[id]));
        out();
        out(`first example (${shardFileName(0, 8)}, ⟦ ⟧ = prediction targets as written):`);
        out(shownTokens.slice(0, 48).join(' ') + (shownTokens.length > 48 ? ' …' : ''));
        break;
      }
      out();
      out(`next: npx kbb build-tfrecord --help  ·  npx kbb tokenize "문장"  ·  npx kbb corpus stats ${shown(sampleCorpusDir)}`);
    });
}
