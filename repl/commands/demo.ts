import { relative } from 'node:path';
import { Command } from 'commander';
import { corpusStats, findCorpusFiles, readCorpusFile } from '../../lib/corpus/index.js';
import { IdBuffer, loadTokenizer } from '../../lib/tokenizer/index.js';
import { alignedTokens, formatBytes, table } from '../format.js';
import { sampleCorpusDir, sampleTokenizerDir } from '../paths.js';

/**
 * `npm start`: the main job on the corpus and vocabulary kbb ships. Until the TFRecord builder lands
 * it reads the corpus exactly as the builder will and tokenizes every sentence.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('read and tokenize the embedded sample corpus and print a summary (what `npm start` runs)')
    .option('--corpus_dir <dir>', 'corpus folder', sampleCorpusDir)
    .option('--tokenizer_dir <dir>', 'tokenizer folder', sampleTokenizerDir)
    .action(async (options: { corpus_dir: string; tokenizer_dir: string }) => {
      const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
      const shown = (p: string): string => relative(process.cwd(), p) || p;
      const stats = await corpusStats(options.corpus_dir);
      out(`corpus     ${shown(options.corpus_dir)}`);
      out(table(['file', 'documents', 'sentences', 'bytes'], stats.files.map((f) => [relative(options.corpus_dir, f.path), f.documents, f.sentences, f.bytes])));
      out();

      const tokenizer = await loadTokenizer(options.tokenizer_dir);
      out(`tokenizer  ${shown(options.tokenizer_dir)}: ${tokenizer.vocabSize.toLocaleString('en-US')} tokens`);
      const ids = new IdBuffer(1 << 16);
      const lengths: number[] = [];
      let bytes = 0;
      let first: string | undefined;
      const started = performance.now();
      for (const file of await findCorpusFiles(options.corpus_dir)) {
        for await (const batch of readCorpusFile(file)) {
          for (const sentence of batch.sentences) {
            first ??= sentence.text;
            lengths.push(tokenizer.encodeInto(sentence.text, ids));
            bytes += Buffer.byteLength(sentence.text);
          }
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const unknown = ids.data.subarray(0, ids.length).filter((id) => id === tokenizer.model.unkId).length;
      const continuation = ids.data.subarray(0, ids.length).filter((id) => tokenizer.isContinuation[id] === 1).length;
      out(
        `tokenized  ${lengths.length.toLocaleString('en-US')} sentences → ${ids.length.toLocaleString('en-US')} tokens ` +
          `(${(ids.length / lengths.length).toFixed(1)} per sentence, longest ${Math.max(...lengths)}), ` +
          `${unknown} [UNK], ${((100 * continuation) / ids.length).toFixed(1)}% ## continuations`,
      );
      out(`           ${formatBytes(bytes)} of text in ${(seconds * 1000).toFixed(0)} ms, reading included`);
      if (first !== undefined) {
        const analysis = tokenizer.analyze(first);
        out();
        out(`first sentence: ${first}`);
        out(alignedTokens(analysis.tokens, analysis.ids, process.stdout.columns || 100));
      }
      out();
      out(`next: npx kbb tokenize "문장"  ·  npx kbb corpus stats ${shown(options.corpus_dir)}  ·  npx kbb --help`);
    });
}
