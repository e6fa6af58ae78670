import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const projectRoot = resolve(import.meta.dirname, '..');
const shared = resolve(projectRoot, '..', 'shared', 'fixtures');

/**
 * The benchmark's input file and tokenizer: `--file` and `--tokenizer_dir`, by default the NSMC
 * benchmark file and KoBigBird's tokenizer from ../shared; without ../shared, the project's sample
 * corpus and vocabulary (said on stderr). Other numeric options come back as numbers.
 */
export function benchInputs<const K extends string>(numericOptions: Record<K, number>): { file: string; tokenizerDir: string } & Record<K, number> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string', default: join(shared, 'korean-corpus', 'nsmc_reviews_bench.txt') },
      tokenizer_dir: { type: 'string', default: join(shared, 'kobigbird-tokenizer') },
      ...Object.fromEntries(Object.entries(numericOptions).map(([k, v]) => [k, { type: 'string' as const, default: String(v) }])),
    },
  });
  let file = values.file as string;
  let tokenizerDir = values.tokenizer_dir as string;
  if (!existsSync(file) || !existsSync(tokenizerDir)) {
    console.error(`note: ${existsSync(file) ? tokenizerDir : file} not found; using the project's sample corpus and vocabulary instead`);
    file = join(projectRoot, 'data', 'sample-corpus', 'essays.txt');
    tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');
  }
  const numbers = Object.fromEntries(Object.keys(numericOptions).map((k) => [k, Number((values as Record<string, unknown>)[k])])) as Record<K, number>;
  return { file, tokenizerDir, ...numbers };
}
