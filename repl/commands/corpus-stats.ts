import { relative } from 'node:path';
import { Command } from 'commander';
import { corpusStats } from '../../lib/corpus/index.js';
import { formatBytes, table } from '../format.js';
import { byteProgress } from '../progress.js';

export function corpusStatsCommand(): Command {
  return new Command('stats')
    .description('count files, documents, sentences and bytes of a corpus folder, as the TFRecord builder will read it')
    .argument('<dir>', 'corpus folder (searched recursively for *.txt and *.jsonl.zst)')
    .option('--json', 'print the statistics as JSON')
    .action(async (dir: string, options: { json?: boolean }) => {
      let progress: ReturnType<typeof byteProgress> | undefined;
      const stats = await corpusStats(dir, {
        onProgress: (done, total) => {
          progress ??= byteProgress('reading', total);
          progress.update(done);
        },
      });
      progress?.stop();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
        return;
      }
      const rows = stats.files.map((f) => [relative(dir, f.path) || f.path, f.format, f.documents, f.sentences, f.bytes]);
      const t = stats.totals;
      process.stdout.write(`${table(['file', 'format', 'documents', 'sentences', 'bytes'], rows)}\n`);
      process.stdout.write(`\n${t.files} files, ${t.documents.toLocaleString('en-US')} documents, ${t.sentences.toLocaleString('en-US')} sentences, ${formatBytes(t.bytes)}\n`);
    });
}
