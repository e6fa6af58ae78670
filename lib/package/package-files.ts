import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root, so defaults work from any working directory. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The demo corpus kbb ships (written for kbb, see its README). */
export const sampleCorpusDir = join(packageRoot, 'data', 'sample-corpus');

/** The demo vocabulary kbb ships (generated from the sample corpus by scripts/make-sample-vocab.ts). */
export const sampleTokenizerDir = join(packageRoot, 'data', 'sample-tokenizer');

let version: string | undefined;

/** kbb's version, from its package.json (the one place it is written). */
export function kbbVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
