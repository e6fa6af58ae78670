import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file lives in test/helpers/). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Reference data written by the real tools lives beside the checkout in `../shared/fixtures`.
 * A user's clone has no `../shared`; tests that need it skip with a message saying so.
 */
export const fixturesDir = process.env.KBB_FIXTURES_DIR ?? resolve(projectRoot, '..', 'shared', 'fixtures');

export const hasFixtures = existsSync(fixturesDir);

export const fixture = (...parts: string[]): string => join(fixturesDir, ...parts);

export const SKIP_NO_FIXTURES = `skipped: ${fixturesDir} not found (reference fixtures live beside the checkout in ../shared)`;

if (!hasFixtures) {
  // Printed once per test file that imports this helper, so a skipped comparison never passes silently.
  console.warn(`[kbb tests] ${SKIP_NO_FIXTURES}`);
}

/** The cases of ../shared/fixtures/golden-bigbird (listed here: the folder may be absent when tests are collected). */
export const GOLDEN_BIGBIRD_CASES = [
  'mlm_block_sparse_eval_s32_fallback',
  'mlm_block_sparse_eval_s61_autopad',
  'mlm_block_sparse_eval_s64',
  'mlm_block_sparse_train_s64',
  'mlm_original_full_eval_s64',
  'pretraining_block_sparse_eval_s64',
] as const;
