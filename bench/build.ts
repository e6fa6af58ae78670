/**
 * Pretraining-data build throughput with the shipped settings (4096 / 640 / whole words / 2-grams /
 * dupe 3) over nsmc_reviews_bench.txt, with 1 and 2 workers.
 *
 *   npm run bench:build [-- --file corpus.txt --tokenizer_dir DIR --parts 8]
 *
 * The reference (and kbb) parallelise over files, so the file is first split into `parts` files at
 * document boundaries. MB/s = input MB (one pass) / wall seconds of the best of `repeats` runs per
 * configuration; the two configurations alternate run by run (runs on this shared 2-core machine vary
 * by ±25%, in spells). The last line is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchInputs, projectRoot } from './bench-inputs.js';

const { file, tokenizerDir, parts, repeats } = benchInputs({ parts: 8, repeats: 3 });

const scratch = mkdtempSync(join(tmpdir(), 'kbb-bench-build-'));
try {
  const text = readFileSync(file, 'utf8');
  const documents = text.split('\n\n');
  const corpus = join(scratch, 'corpus');
  mkdirSync(corpus);
  const per = Math.ceil(documents.length / parts);
  for (let p = 0; p < parts; p++)
    writeFileSync(join(corpus, `part-${String(p).padStart(2, '0')}.txt`), `${documents.slice(p * per, (p + 1) * per).join('\n\n')}\n`);
  const megabytes = Buffer.byteLength(text) / 1e6;
  console.error(`${file}: ${megabytes.toFixed(2)} MB in ${parts} files; shipped settings (4096/640/wwm/2-gram/dupe 3)`);

  /** One build: wall seconds, CPU seconds of all its threads (the cores' work), examples, peak RSS. */
  interface Run {
    readonly seconds: number;
    readonly cpuSeconds: number;
    readonly examples: number;
    readonly maxRssMb: number;
  }
  let runs = 0;
  const once = (workers: number): Run => {
    // A fresh folder per run: deleting the last run's thousand shards just before creating a thousand
    // more makes ext4 walk past every recently freed inode on each create (quadratic), which measures
    // the bench's cleanup, not the build. Outputs are removed with the scratch folder at the end.
    const output = join(scratch, `out-${workers}-${runs++}`);
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'bench', 'build-run.ts'), corpus, tokenizerDir, output, String(workers)], {
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(result.stderr);
    const lines = result.stdout.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]);
  };
  // 1- and 2-worker runs alternate, so that a slow spell of this shared machine hits both alike.
  const all: Record<1 | 2, Run[]> = { 1: [], 2: [] };
  for (let r = 0; r < repeats; r++) for (const workers of [1, 2] as const) all[workers].push(once(workers));
  const best = (workers: 1 | 2): Run => {
    console.error(`${workers} worker(s), each run: ${all[workers].map((r) => `${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s)`).join(', ')}`);
    return { ...all[workers].reduce((a, b) => (b.seconds < a.seconds ? b : a)), maxRssMb: Math.max(...all[workers].map((r) => r.maxRssMb)) };
  };
  const one = best(1);
  console.error(
    `1 worker : ${(megabytes / one.seconds).toFixed(2)} MB/s (${one.seconds.toFixed(2)} s, ${one.examples} examples, peak RSS ${one.maxRssMb.toFixed(0)} MB)`,
  );
  const two = best(2);
  console.error(
    `2 workers: ${(megabytes / two.seconds).toFixed(2)} MB/s (${two.seconds.toFixed(2)} s, ${two.examples} examples, peak RSS ${two.maxRssMb.toFixed(0)} MB)`,
  );
  const pairs = all[1].map((r, i) => r.seconds / all[2][i].seconds);
  console.error(
    `run by run, 1-worker time / 2-worker time: ${pairs.map((p) => `${p.toFixed(2)}x`).join(', ')} (median ${[...pairs].sort((a, b) => a - b)[Math.floor(pairs.length / 2)].toFixed(2)}x)`,
  );
  console.error(`scaling 2/1 = ${(one.seconds / two.seconds).toFixed(2)}x`);
  console.log(
    JSON.stringify({
      mb_s_1: Number((megabytes / one.seconds).toFixed(2)),
      mb_s_2: Number((megabytes / two.seconds).toFixed(2)),
      peak_rss_mb: Math.round(Math.max(one.maxRssMb, two.maxRssMb)),
    }),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
