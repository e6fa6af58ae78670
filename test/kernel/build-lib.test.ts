import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLib, repoRoot } from '../helpers/notebook-tools.js';

const dist = join(repoRoot, 'dist');
const out = mkdtempSync(join(tmpdir(), 'kbb-build-lib-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Runs a CommonJS snippet with plain Node (as tslab's kernel loads the bundle), returns its stdout. */
function runCjs(code: string): string {
  const result = spawnSync(process.execPath, ['-e', code], { cwd: out, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`node exited with ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

describe('the package notebooks load (npm run build:lib)', () => {
  beforeAll(() => {
    buildLib();
  });

  it('is CommonJS without import.meta, with types that re-export lib/ and kernel/', () => {
    for (const name of ['kbb', 'kernel']) {
      const code = readFileSync(join(dist, `${name}.cjs`), 'utf8');
      expect(code).not.toMatch(/\bimport\.meta\b/);
      expect(code).toContain('module.exports');
    }
    expect(readFileSync(join(dist, 'kbb.d.cts'), 'utf8')).toContain("export * from './types/lib/index.js';");
    expect(readFileSync(join(dist, 'kernel.d.cts'), 'utf8')).toContain("export * from './types/kernel/index.js';");
    expect(readFileSync(join(dist, 'types', 'lib', 'pretraining', 'build-pretraining-data.d.ts'), 'utf8')).toContain(
      'export declare function buildPretrainingData',
    );
  });

  it('is not built again while its sources are unchanged', () => {
    expect(buildLib()).toMatch(/^dist\/ is up to date/);
  });

  it('loads with require() and builds pretraining data, in worker threads too', () => {
    const options = (numProcesses: number, dir: string) =>
      JSON.stringify({
        inputDir: join(repoRoot, 'data', 'sample-corpus'),
        tokenizerDir: join(repoRoot, 'data', 'sample-tokenizer'),
        outputDir: join(out, dir),
        maxSeqLength: 128,
        maxPredictionsPerSeq: 20,
        numShards: 2,
        dupeFactor: 1,
        numProcesses,
      });
    const stdout = runCjs(`
      const kbb = require(${JSON.stringify(join(dist, 'kbb.cjs'))});
      (async () => {
        const one = await kbb.buildPretrainingData(${options(1, 'one')});
        const two = await kbb.buildPretrainingData(${options(2, 'two')});
        console.log(JSON.stringify([one.totals.examples, two.totals.examples, two.jobs.length]));
      })().catch((e) => { console.error(e); process.exit(1); });`);
    const [one, two, jobs] = JSON.parse(stdout) as number[];
    expect(one).toBeGreaterThan(0);
    expect(two).toBeGreaterThan(0);
    expect(jobs).toBe(2);
  });

  it('has display helpers that load outside a kernel and print text there', () => {
    const stdout = runCjs(`
      const k = require(${JSON.stringify(join(dist, 'kernel.cjs'))});
      k.table([{ a: 1 }]);
      console.log(Object.keys(k.plotlyBundle({ data: [] }, { includePlotlyJs: false }).data).sort().join(' '));`);
    expect(stdout).toBe('a\n1\napplication/vnd.plotly.v1+json text/html text/plain\n');
  });
});

describe('the kbb kernelspec', () => {
  it('runs the project-local tslab with the connection file', () => {
    const spec = JSON.parse(readFileSync(join(repoRoot, 'kernel', 'kernels', 'kbb', 'kernel.json'), 'utf8')) as { argv: string[]; language: string };
    expect(spec.argv).toEqual(['npx', '--no-install', 'tslab', 'kernel', '--config-path', '{connection_file}']);
    expect(spec.language).toBe('typescript');
  });
});
