/**
 * Runs every reader's fuzz suite (`test/**\/*.fuzz.test.ts`) with many more cases than `npm test` does.
 *
 *   npm run fuzz [-- --runs 5000] [--seed 42]
 *
 * Without --seed a fresh seed is drawn and printed, so a failure can be replayed with it.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: expected a positive integer`);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(seed)) throw new Error(`--seed ${values.seed}: expected an integer`);
console.log(`fuzz: ${runs} cases per property, seed ${seed} (replay with --seed ${seed})`);
const result = spawnSync('npx', ['vitest', 'run', '.fuzz.test.ts', '--testTimeout', String(Math.max(60_000, runs * 200))], {
  stdio: 'inherit',
  env: { ...process.env, KBB_FUZZ_RUNS: String(runs), KBB_FUZZ_SEED: String(seed) },
});
process.exit(result.status ?? 1);
