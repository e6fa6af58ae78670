/**
 * One timed vocabulary training in its own process, so peak RSS is this contender's alone (its
 * threads included):
 *
 *   node --import tsx bench/vocab-run.ts <kbb-hf|kbb-defaults|hf> CORPUS_FILE VOCAB_OUT THREADS SCRATCH_DIR
 *
 * Writes the vocabulary to VOCAB_OUT (one token a line, in id order) and prints one JSON line. Each
 * contender's code is imported only in its own branch, so no child carries the other's modules.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [contender, corpus, vocabOut, threadsArg, scratch] = process.argv.slice(2);
const threads = Number(threadsArg);

const startRssMb = process.memoryUsage().rss / 2 ** 20;
const started = performance.now();
const cpuStarted = process.cpuUsage();
let vocab: string[];
if (contender === 'kbb-hf') {
  // The same work as Hugging Face's `Tokenizer.train`: count the words, train with its trainer's
  // defaults, write nothing.
  const { countCorpusWords, trainWordPiece, HF_WORDPIECE_TRAINER_DEFAULTS, KOBIGBIRD_NORMALIZER } = await import('../lib/tokenizer/index.js');
  const counted = await countCorpusWords([corpus], { normalizer: KOBIGBIRD_NORMALIZER, threads });
  vocab = trainWordPiece(counted, HF_WORDPIECE_TRAINER_DEFAULTS).vocab;
} else if (contender === 'kbb-defaults') {
  // What `kbb vocab` does when given only a corpus: its defaults, and the tokenizer folder written.
  const { trainTokenizer } = await import('../lib/tokenizer/index.js');
  const result = await trainTokenizer({ input: corpus, outputDir: join(scratch, 'kbb-defaults'), overwrite: true, threads });
  vocab = result.trained.vocab;
} else if (contender === 'hf') {
  // The Node binding resolves from this file's folder (the project's node_modules). Its thread pool
  // is sized by RAYON_NUM_THREADS, which the parent sets. The progress bar goes to the parent's pipe.
  const { default: tokenizers } = await import('tokenizers');
  const { KOBIGBIRD_NORMALIZER } = await import('../lib/tokenizer/wordpiece-trainer-options.js');
  const tokenizer = new tokenizers.Tokenizer(tokenizers.WordPiece.empty());
  tokenizer.setNormalizer(tokenizers.bertNormalizer({ ...KOBIGBIRD_NORMALIZER }));
  tokenizer.setPreTokenizer(tokenizers.bertPreTokenizer());
  tokenizer.train([corpus]); // WordPieceTrainer::default(): vocab size 30,000, no special tokens
  vocab = [];
  for (const [token, id] of Object.entries(tokenizer.getVocab(true))) vocab[id] = token;
} else {
  throw new Error(`vocab-run: unknown contender ${JSON.stringify(contender)}: expected kbb-hf, kbb-defaults or hf`);
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStarted);
writeFileSync(vocabOut, `${vocab.join('\n')}\n`);
console.log(
  JSON.stringify({
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    vocabSize: vocab.length,
    holes: vocab.length - Object.keys(vocab).length,
    startRssMb,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
