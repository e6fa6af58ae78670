/**
 * Tokenizer throughput: ours (one thread) against Hugging Face's Rust tokenizer (`tokenizers`,
 * encodeBatch on every core) and its pure-JS port (`@huggingface/tokenizers`), in the same run, on the
 * same lines, plus a token-for-token comparison of ours with the Rust output over the whole file.
 *
 *   npm run bench:tokenize [-- --file corpus.txt --tokenizer_dir DIR --repeats 3]
 *
 * MB/s = UTF-8 bytes of the tokenized lines / wall seconds. Each library gets a fresh instance per
 * repeat (our word cache starts cold every time) and the best repeat is reported.
 * The last line printed is one JSON object.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer } from '../lib/tokenizer/index.js';
import { hfBertTokenizer } from '../test/helpers/hf-tokenizer.js';
import { benchInputs } from './bench-inputs.js';

const { file, tokenizerDir, repeats } = benchInputs({ repeats: 3 });

const lines = readFileSync(file, 'utf8')
  .split(/\r\n|\r|\n/)
  .filter((l) => l.length > 0);
const megabytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0) / 1e6;
console.error(`${file}: ${lines.length} lines, ${megabytes.toFixed(2)} MB; ${availableParallelism()} cores; ${repeats} repeats`);

async function best(name: string, run: () => Promise<number[][] | undefined>): Promise<{ mbPerSecond: number; ids?: number[][] }> {
  let fastest = Infinity;
  let ids: number[][] | undefined;
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    const result = await run();
    const seconds = (performance.now() - started) / 1000;
    fastest = Math.min(fastest, seconds);
    ids ??= result;
  }
  const mbPerSecond = megabytes / fastest;
  console.error(`${name.padEnd(44)} ${mbPerSecond.toFixed(2).padStart(8)} MB/s  (${fastest.toFixed(3)} s)`);
  return { mbPerSecond, ids };
}

// Ours: one thread, fresh tokenizer (cold word cache) per repeat.
let oursIds: { ids: Int32Array; offsets: Int32Array } = { ids: new Int32Array(), offsets: new Int32Array() };
const ours = await best('kbb (1 thread)', async () => {
  const tokenizer = await loadTokenizer(tokenizerDir);
  oursIds = tokenizer.encodeBatch(lines);
  return undefined;
});

const rust = await best(`HF tokenizers Rust (encodeBatch, ${availableParallelism()} cores)`, async () => {
  const tokenizer = await hfBertTokenizer(tokenizerDir);
  const out: number[][] = [];
  for (let i = 0; i < lines.length; i += 8192) {
    for (const encoding of await tokenizer.encodeBatch(lines.slice(i, i + 8192), { addSpecialTokens: false })) out.push(encoding.getIds());
  }
  return out;
});

const scratch = mkdtempSync(join(tmpdir(), 'kbb-bench-'));
(await hfBertTokenizer(tokenizerDir)).save(join(scratch, 'tokenizer.json'));
const tokenizerJson = JSON.parse(readFileSync(join(scratch, 'tokenizer.json'), 'utf8'));
const tokenizerConfig = JSON.parse(readFileSync(join(tokenizerDir, 'tokenizer_config.json'), 'utf8'));
rmSync(scratch, { recursive: true });
const js = await best('HF tokenizers.js (pure JS, 1 thread)', async () => {
  const tokenizer = new JsTokenizer(tokenizerJson, tokenizerConfig);
  for (const line of lines) tokenizer.encode(line, { add_special_tokens: false });
  return undefined;
});

let mismatches = 0;
lines.forEach((line, i) => {
  const a = oursIds.ids.subarray(oursIds.offsets[i], oursIds.offsets[i + 1]);
  const b = rust.ids![i];
  if (a.length !== b.length || a.some((id, k) => id !== b[k])) {
    if (mismatches < 5) console.error(`mismatch on line ${i + 1}: ${JSON.stringify(line)}`);
    mismatches++;
  }
});
const peer = Math.max(rust.mbPerSecond, js.mbPerSecond);
console.error(`ours / fastest peer = ${(ours.mbPerSecond / peer).toFixed(2)}x; mismatches against Rust: ${mismatches} of ${lines.length} lines`);
console.log(
  JSON.stringify({
    ours_mb_s: Number(ours.mbPerSecond.toFixed(2)),
    hf_rust_mb_s: Number(rust.mbPerSecond.toFixed(2)),
    hf_js_mb_s: Number(js.mbPerSecond.toFixed(2)),
    mismatches,
  }),
);
