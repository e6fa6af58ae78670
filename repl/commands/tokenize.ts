import { sampleTokenizerDir } from '../../lib/package/index.js';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { alignedTokens } from '../format.js';
import { defineCommand } from '../registry/command-definition.js';

export const tokenizeCommand = defineCommand({
  path: ['tokenize'],
  description: 'tokenize text exactly as BertTokenizerFast does and print tokens and ids',
  arguments: [{ name: 'text', type: 'string', variadic: true, description: 'the text to tokenize (several arguments are joined with spaces)' }],
  flags: [
    {
      name: 'tokenizer_dir',
      type: 'path',
      value: 'dir',
      default: sampleTokenizerDir,
      description: 'Hugging Face tokenizer folder, local or gs://bucket/prefix (vocab.txt, tokenizer_config.json, special_tokens_map.json)',
    },
    { name: 'json', type: 'boolean', description: 'print {tokens, ids, wordIds, offsets} as JSON' },
  ],
  async run(args, io) {
    const tokenizer = await loadTokenizer(args.tokenizer_dir);
    const analysis = tokenizer.analyze(args.text.join(' '));
    if (args.json) return io.json(analysis);
    io.text(alignedTokens(analysis.tokens, analysis.ids, io.columns));
    io.text(`${analysis.ids.length} tokens, ${new Set(analysis.wordIds).size} words`);
  },
});
