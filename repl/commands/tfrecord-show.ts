import { baseName, parentPath, pathExists } from '../../lib/fs/index.js';
import { sampleTokenizerDir } from '../../lib/package/index.js';
import { buildTokenizer, MARK_LEGEND, markedToken, readBuildManifest, readPretrainingRecords, recordTokens, recordVocab } from '../../lib/pretraining/index.js';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { defineCommand } from '../registry/command-definition.js';

export const tfrecordShowCommand = defineCommand({
  path: ['tfrecord', 'show'],
  description: 'decode pretraining examples back to tokens: each prediction target with its original token and whether it was masked, kept or replaced',
  arguments: [{ name: 'file', type: 'path', description: 'a TFRecord shard written by build-tfrecord (local or gs://)' }],
  flags: [
    { name: 'n', type: 'int', value: 'n', default: 1, description: 'examples to show' },
    { name: 'skip', type: 'int', value: 'k', default: 0, description: 'examples to pass over first' },
    {
      name: 'tokenizer_dir',
      type: 'path',
      value: 'dir',
      description: "the build's tokenizer (default: the one in the folder's build_manifest.json, else the sample tokenizer)",
    },
    { name: 'json', type: 'boolean', description: 'one JSON object per example: ids, tokens and predictions' },
  ],
  async run(args, io) {
    if (!(await pathExists(args.file))) throw new Error(`${args.file}: no such file`);
    const folder = parentPath(args.file);
    const manifest = await readBuildManifest(folder);
    const tokenizer = args.tokenizer_dir || manifest ? await buildTokenizer(manifest, args.tokenizer_dir, folder) : await loadTokenizer(sampleTokenizerDir);
    let shown = 0;
    for await (const record of readPretrainingRecords(args.file, recordVocab(tokenizer), { skip: args.skip, limit: args.n })) {
      io.signal.throwIfAborted();
      const tokens = recordTokens(record, tokenizer.idToToken);
      if (args.json) {
        io.json({ index: record.index, length: record.length, input_ids: record.inputIds.slice(0, record.length), tokens, predictions: record.predictions });
        shown++;
        continue;
      }
      const count = (kind: string): number => record.predictions.filter((p) => p.kind === kind).length;
      const padding = record.inputIds.length - record.length;
      if (shown > 0) io.text('');
      io.text(
        `example ${record.index} of ${baseName(args.file)}: ${record.length} tokens + ${padding} padding, ${record.twoSegments ? 'two segments' : 'one segment'}, ` +
          `${record.predictions.length} predictions (${count('masked')} masked, ${count('kept')} kept, ${count('replaced')} replaced)`,
      );
      io.text(tokens.map(markedToken).join(' '));
      io.table(
        ['position', 'input', 'original', 'what'],
        tokens.filter((t) => t.prediction).map((t) => [t.position, t.token, t.prediction!.original, t.prediction!.kind]),
      );
      shown++;
    }
    if (shown === 0) throw new Error(`${args.file}: no example at index ${args.skip}`);
    if (!args.json) io.text(MARK_LEGEND);
  },
});
