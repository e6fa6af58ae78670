import { Command } from 'commander';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { alignedTokens } from '../format.js';
import { sampleTokenizerDir } from '../paths.js';

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('tokenize text exactly as BertTokenizerFast does and print tokens and ids')
    .argument('<text...>', 'the text to tokenize (several arguments are joined with spaces)')
    .option('--tokenizer_dir <dir>', 'Hugging Face tokenizer folder (vocab.txt, tokenizer_config.json, special_tokens_map.json)', sampleTokenizerDir)
    .option('--json', 'print {tokens, ids, wordIds, offsets} as JSON')
    .action(async (words: string[], options: { tokenizer_dir: string; json?: boolean }) => {
      const tokenizer = await loadTokenizer(options.tokenizer_dir);
      const analysis = tokenizer.analyze(words.join(' '));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(analysis)}\n`);
        return;
      }
      process.stdout.write(`${alignedTokens(analysis.tokens, analysis.ids, process.stdout.columns || 100)}\n`);
      process.stdout.write(`${analysis.ids.length} tokens, ${new Set(analysis.wordIds).size} words\n`);
    });
}
