/**
 * Vocabulary-training throughput: kbb's WordPiece trainer against Hugging Face's Rust trainer
 * (`tokenizers`, `Tokenizer.train`) on the same corpus, in the same run, plus how far their
 * vocabularies agree.
 *
 *   npm run bench:vocab [-- --corpus corpus.txt --runs 3 --threads N]
 *
 * Contenders, each run in its own child process (bench/vocab-run.ts) so its peak RSS is its own:
 * - kbb, HF defaults: countCorpusWords + trainWordPiece with HF_WORDPIECE_TRAINER_DEFAULTS (30,000
 *   entries, no special tokens), nothing written: the same work as HF's `train`.
 * - kbb vocab defaults: trainTokenizer as `kbb vocab` runs it (32,500 entries, KoBigBird's special
 *   tokens, the tokenizer folder written).
 * - HF: WordPiece.empty() + BERT normalizer (cased, as KoBigBird) + BERT pre-tokenizer, `train([file])`.
 * All use `--threads` (default: every core; HF through RAYON_NUM_THREADS). Seconds are the wall time
 * of the training inside the child (process start and module loading excluded); MB/s = corpus bytes /
 * those seconds. The contenders alternate run by run, so a slow spell of a shared machine hits all
 * alike. Agreement is set overlap |A∩B| / max(|A|,|B|); HF visits words in a random hash order, so
 * its runs can differ from each other at ties, while kbb's are the same every run.
 * The last line printed is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from './bench-inputs.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: resolve(projectRoot, '..', 'shared', 'fixtures', 'korean-corpus', 'nsmc_reviews_bench.txt') },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(availableParallelism()) },
  },
});
const runs = positiveInteger('--runs', values.runs);
const threads = positiveInteger('--threads', values.threads);
let corpus = resolve(values.corpus);
if (!existsSync(corpus)) {
  console.error(`note: ${corpus} not found; using the project's sample corpus instead`);
  corpus = join(projectRoot, 'data', 'sample-corpus', 'essays.txt');
}
if (!statSync(corpus).isFile()) throw new Error(`--corpus ${corpus}: expected a text file, not a folder`);
const megabytes = statSync(corpus).size / 1e6;

function positiveInteger(flag: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} ${text}: expected a positive whole number`);
  return n;
}

type Contender = 'kbb-hf' | 'kbb-defaults' | 'hf';
const LABELS: Record<Contender, string> = {
  'kbb-hf': 'kbb (HF trainer defaults)',
  'kbb-defaults': 'kbb vocab defaults',
  hf: 'HF tokenizers (Rust)',
};

/** One training, as its child reports it, and the vocabulary it learned (in id order). */
interface Run {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly vocabSize: number;
  readonly holes: number;
  readonly startRssMb: number;
  readonly maxRssMb: number;
  readonly vocab: string[];
}

const scratch = mkdtempSync(join(tmpdir(), 'kbb-bench-vocab-'));
try {
  console.error(`${corpus}: ${megabytes.toFixed(2)} MB; ${threads} threads; ${runs} runs each`);
  let count = 0;
  const once = (contender: Contender): Run => {
    const vocabFile = join(scratch, `${contender}-${count++}.txt`);
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'bench', 'vocab-run.ts'), contender, corpus, vocabFile, String(threads), scratch],
      {
        encoding: 'utf8',
        env: { ...process.env, RAYON_NUM_THREADS: String(threads) },
      },
    );
    if (result.status !== 0) throw new Error(`${LABELS[contender]} failed (exit ${result.status}):\n${result.stderr}`);
    const lines = result.stdout.trim().split('\n');
    const vocab = readFileSync(vocabFile, 'utf8').split('\n');
    vocab.pop(); // after the last newline
    const run: Run = { ...JSON.parse(lines[lines.length - 1]), vocab };
    console.error(
      `  ${LABELS[contender].padEnd(26)} ${run.seconds.toFixed(2).padStart(6)} s  (CPU ${run.cpuSeconds.toFixed(2)} s, peak RSS ${run.maxRssMb.toFixed(0)} MB from ${run.startRssMb.toFixed(0)} MB at start, ${run.vocabSize} entries)`,
    );
    return run;
  };

  const contenders: Contender[] = ['kbb-hf', 'hf', 'kbb-defaults'];
  const all: Record<Contender, Run[]> = { 'kbb-hf': [], hf: [], 'kbb-defaults': [] };
  for (let r = 0; r < runs; r++) for (const contender of contenders) all[contender].push(once(contender));

  const median = (xs: number[]): number => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  /** Best and median of a contender's runs; memory is the highest peak of any of them. */
  const summary = (contender: Contender) => {
    const seconds = all[contender].map((r) => r.seconds);
    const best = Math.min(...seconds);
    const med = median(seconds);
    const peakRssMb = Math.max(...all[contender].map((r) => r.maxRssMb));
    return { best, median: med, bestMbS: megabytes / best, medianMbS: megabytes / med, peakRssMb, vocabSize: all[contender][0].vocabSize };
  };
  const stats = { 'kbb-hf': summary('kbb-hf'), hf: summary('hf'), 'kbb-defaults': summary('kbb-defaults') };

  console.error('');
  console.error(`${'contender'.padEnd(26)}  best s  median s  best MB/s  median MB/s  peak RSS MB  vocab`);
  for (const contender of contenders) {
    const s = stats[contender];
    console.error(
      `${LABELS[contender].padEnd(26)}  ${s.best.toFixed(2).padStart(6)}  ${s.median.toFixed(2).padStart(8)}  ${s.bestMbS.toFixed(2).padStart(9)}  ${s.medianMbS.toFixed(2).padStart(11)}  ${s.peakRssMb.toFixed(0).padStart(11)}  ${s.vocabSize}`,
    );
  }
  const kbb = stats['kbb-hf'];
  const hf = stats.hf;
  console.error(
    `kbb / HF throughput: ${(kbb.bestMbS / hf.bestMbS).toFixed(2)}x best, ${(kbb.medianMbS / hf.medianMbS).toFixed(2)}x median; kbb / HF peak RSS: ${(kbb.peakRssMb / hf.peakRssMb).toFixed(2)}x`,
  );

  // Agreement of the vocabularies trained with the same options.
  const overlap = (a: readonly string[], b: readonly string[]): number => {
    const setB = new Set(b);
    const setA = new Set(a);
    let shared = 0;
    for (const token of setA) if (setB.has(token)) shared++;
    return shared / Math.max(setA.size, setB.size);
  };
  const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && overlap(a, b) === 1;
  const singleChars = (vocab: readonly string[], prefix: string): string[] =>
    vocab.filter((t) => t.startsWith(prefix) && [...t.slice(prefix.length)].length === 1);
  const kbbVocab = all['kbb-hf'][0].vocab;
  const kbbDeterministic = all['kbb-hf'].every((r) => r.vocab.length === kbbVocab.length && r.vocab.every((t, i) => t === kbbVocab[i]));
  const hfRuns = all.hf.map((r) => r.vocab);
  const kbbVsHf = hfRuns.map((v) => overlap(kbbVocab, v));
  const hfVsHf: number[] = [];
  for (let i = 0; i < hfRuns.length; i++) for (let j = i + 1; j < hfRuns.length; j++) hfVsHf.push(overlap(hfRuns[i], hfRuns[j]));
  const alphabetSame = hfRuns.every((v) => sameSet(singleChars(kbbVocab, ''), singleChars(v, '')));
  const continuationSame = hfRuns.every((v) => sameSet(singleChars(kbbVocab, '##'), singleChars(v, '##')));
  const percent = (xs: number[]): string => (xs.length ? xs.map((x) => `${(100 * x).toFixed(2)}%`).join(', ') : '(one run only)');
  console.error('');
  console.error(`kbb runs identical to each other (same tokens, same ids): ${kbbDeterministic ? 'yes' : 'NO'}`);
  console.error(`kbb vs each HF run, vocabulary overlap: ${percent(kbbVsHf)}`);
  console.error(`HF runs vs each other, vocabulary overlap: ${percent(hfVsHf)}`);
  console.error(
    `single-character alphabet identical to every HF run's: ${alphabetSame ? 'yes' : 'NO'} (${singleChars(kbbVocab, '').length} characters); ##-continuation alphabet: ${continuationSame ? 'yes' : 'NO'} (${singleChars(kbbVocab, '##').length})`,
  );
  if (all.hf.some((r) => r.holes > 0)) console.error('note: an HF vocabulary had unused ids (holes)');

  const round = (x: number): number => Number(x.toFixed(2));
  console.log(
    JSON.stringify({
      kbb_mb_s: round(kbb.bestMbS),
      kbb_median_mb_s: round(kbb.medianMbS),
      kbb_peak_rss_mb: Math.round(kbb.peakRssMb),
      kbb_defaults_mb_s: round(stats['kbb-defaults'].bestMbS),
      kbb_defaults_peak_rss_mb: Math.round(stats['kbb-defaults'].peakRssMb),
      hf_mb_s: round(hf.bestMbS),
      hf_median_mb_s: round(hf.medianMbS),
      hf_peak_rss_mb: Math.round(hf.peakRssMb),
      throughput_ratio: round(kbb.bestMbS / hf.bestMbS),
      memory_ratio: round(kbb.peakRssMb / hf.peakRssMb),
      kbb_hf_overlap_min: Number(Math.min(...kbbVsHf).toFixed(4)),
      hf_hf_overlap_min: hfVsHf.length ? Number(Math.min(...hfVsHf).toFixed(4)) : null,
      alphabet_identical: alphabetSame,
    }),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
