import { corpusStats } from '../../lib/corpus/index.js';
import { relativePath } from '../../lib/fs/index.js';
import { formatBytes } from '../format.js';
import { deferredProgress } from '../io/deferred-progress.js';
import { defineCommand } from '../registry/command-definition.js';

export const corpusStatsCommand = defineCommand({
  path: ['corpus', 'stats'],
  description: 'count files, documents, sentences and bytes of a corpus folder, as the TFRecord builder will read it',
  arguments: [{ name: 'dir', type: 'path', description: 'corpus folder, local or gs://bucket/prefix (searched recursively for *.txt and *.jsonl.zst)' }],
  flags: [{ name: 'json', type: 'boolean', description: 'print the statistics as JSON' }],
  async run({ dir, json }, io) {
    const progress = deferredProgress(io, { label: 'reading', unit: 'bytes' });
    const stats = await corpusStats(dir, {
      onProgress: (done, total) => {
        io.signal.throwIfAborted();
        progress.update(done, total);
      },
    }).finally(progress.stop);
    if (json) return io.json(stats, { indent: 2 });
    const t = stats.totals;
    io.table(
      ['file', 'format', 'documents', 'sentences', 'bytes'],
      stats.files.map((f) => [relativePath(dir, f.path) || f.path, f.format, f.documents, f.sentences, f.bytes]),
    );
    io.text(`\n${t.files} files, ${t.documents.toLocaleString('en-US')} documents, ${t.sentences.toLocaleString('en-US')} sentences, ${formatBytes(t.bytes)}`);
  },
});
