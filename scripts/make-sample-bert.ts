/**
 * Generates the demo BERT checkpoint (data/sample-bert/), so that a warm start can be shown and tested
 * on a fresh clone without downloading Google's 420 MB BERT-Base. It has the files and the variables
 * of a checkpoint that Google's BERT `run_pretraining.py` writes, for a tiny model:
 *
 *   node --import tsx scripts/make-sample-bert.ts [--out data/sample-bert] [--vocab data/sample-tokenizer/vocab.txt] [--seed 2018]
 *
 *   - bert_model.ckpt.index / bert_model.ckpt.data-00000-of-00001 — a TF v1 TensorBundle with every
 *     variable of BERT's `modeling.py` (BertModel with its pooler) and `run_pretraining.py` (the
 *     `cls/predictions` MLM head and the `cls/seq_relationship` NSP head) under BERT's own names (the
 *     embedding LayerNorm is `bert/embeddings/LayerNorm`), each with its AdamWeightDecayOptimizer slots
 *     `<name>/adam_m` and `<name>/adam_v`, and `global_step` (int64). The list is written out below from
 *     BERT's code, not taken from kbb's BigBird variables, so a warm start from it checks kbb's rules
 *     against BERT's names.
 *   - bert_config.json — the keys and layout of the bert_config.json in Google's BERT zips.
 *   - README.md — what this is and how it was made.
 *
 * Sizes: the sample vocabulary's entries (3,000), BERT's 512 positions, 2 segment types, and the sample
 * BigBird's hidden size, layers, heads and intermediate size (`SAMPLE_TRAIN_FLAGS`), so it warm-starts
 * the model `npm start` and the notebooks train.
 *
 * Values are not a trained model: one Python-compatible generator (`PyRandom`, --seed) draws every
 * tensor in name order — weights from a truncated normal with σ = initializer_range as BERT
 * initialises them, LayerNorm gammas around 1, small Adam moments (`adam_v` positive) — and
 * `global_step` is 1,000,000, the steps Google's BERT-Base was pretrained for. Deterministic: the same
 * arguments write the same bytes.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCheckpoint } from '../lib/checkpoint/index.js';
import { PyRandom } from '../lib/random/index.js';
import { elementCount } from '../lib/tensor/index.js';
import { compareCodePoints } from '../lib/text/index.js';
import { SAMPLE_TRAIN_FLAGS } from '../lib/train/train-flags.js';

const root = resolve(import.meta.dirname, '..');
const DEFAULT_SEED = '2018';
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'data', 'sample-bert') },
    vocab: { type: 'string', default: join(root, 'data', 'sample-tokenizer', 'vocab.txt') },
    seed: { type: 'string', default: DEFAULT_SEED },
  },
});
const seed = Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('--seed must be a non-negative integer');

const vocabSize = readFileSync(values.vocab!, 'utf8').split('\n').filter(Boolean).length;
// Key for key, in the order of Google's bert_config.json (uncased_L-12_H-768_A-12), with the sample's sizes.
const config = {
  attention_probs_dropout_prob: 0.1,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: SAMPLE_TRAIN_FLAGS.hidden_size!,
  initializer_range: 0.02,
  intermediate_size: SAMPLE_TRAIN_FLAGS.intermediate_size!,
  max_position_embeddings: 512,
  num_attention_heads: SAMPLE_TRAIN_FLAGS.num_attention_heads!,
  num_hidden_layers: SAMPLE_TRAIN_FLAGS.num_hidden_layers!,
  type_vocab_size: 2,
  vocab_size: vocabSize,
};
const GLOBAL_STEP = 1_000_000;

/** BERT's trainable variables: modeling.py's BertModel, then run_pretraining.py's two heads. */
function bertVariables(): { name: string; shape: number[] }[] {
  const h = config.hidden_size;
  const out: { name: string; shape: number[] }[] = [];
  const dense = (path: string, inDim: number, outDim: number): void =>
    void out.push({ name: `${path}/kernel`, shape: [inDim, outDim] }, { name: `${path}/bias`, shape: [outDim] });
  const layerNorm = (path: string): void => void out.push({ name: `${path}/beta`, shape: [h] }, { name: `${path}/gamma`, shape: [h] });
  out.push(
    { name: 'bert/embeddings/word_embeddings', shape: [config.vocab_size, h] },
    { name: 'bert/embeddings/token_type_embeddings', shape: [config.type_vocab_size, h] },
    { name: 'bert/embeddings/position_embeddings', shape: [config.max_position_embeddings, h] },
  );
  layerNorm('bert/embeddings/LayerNorm');
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const prefix = `bert/encoder/layer_${layer}`;
    for (const projection of ['query', 'key', 'value']) dense(`${prefix}/attention/self/${projection}`, h, h);
    dense(`${prefix}/attention/output/dense`, h, h);
    layerNorm(`${prefix}/attention/output/LayerNorm`);
    dense(`${prefix}/intermediate/dense`, h, config.intermediate_size);
    dense(`${prefix}/output/dense`, config.intermediate_size, h);
    layerNorm(`${prefix}/output/LayerNorm`);
  }
  dense('bert/pooler/dense', h, h);
  dense('cls/predictions/transform/dense', h, h);
  layerNorm('cls/predictions/transform/LayerNorm');
  out.push(
    // The MLM decoder is the word-embedding table (tied); only its bias is a variable of its own.
    { name: 'cls/predictions/output_bias', shape: [config.vocab_size] },
    { name: 'cls/seq_relationship/output_weights', shape: [2, h] },
    { name: 'cls/seq_relationship/output_bias', shape: [2] },
  );
  return out;
}

const trainable = bertVariables();
// TF's Saver writes variables in name order; drawing in that order too keeps every value independent of how the list above is written.
const variables = trainable
  .flatMap((v) => ['', '/adam_m', '/adam_v'].map((slot) => ({ name: v.name + slot, shape: v.shape })))
  .sort((a, b) => compareCodePoints(a.name, b.name));
const rng = new PyRandom(seed);
const bytes = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer);
const tensors = variables.map((v) => {
  const count = elementCount(v.shape);
  let values: Float32Array;
  if (v.name.endsWith('/adam_m')) values = rng.truncatedNormal(count, 1e-3);
  else if (v.name.endsWith('/adam_v')) values = rng.truncatedNormal(count, 1e-3).map((x) => x * x);
  else if (v.name.endsWith('LayerNorm/gamma')) values = rng.truncatedNormal(count, 0.05).map((x) => 1 + x);
  else values = rng.truncatedNormal(count, config.initializer_range);
  return { name: v.name, dtype: 'float32' as const, shape: v.shape, data: bytes(values) };
});
const step = new Uint8Array(8);
new DataView(step.buffer).setBigInt64(0, BigInt(GLOBAL_STEP), true);
const all = [...tensors, { name: 'global_step', dtype: 'int64' as const, shape: [], data: step }].sort((a, b) => compareCodePoints(a.name, b.name));

const out = values.out!;
mkdirSync(out, { recursive: true });
const prefix = join(out, 'bert_model.ckpt');
await writeCheckpoint(prefix, all);
writeFileSync(join(out, 'bert_config.json'), `${JSON.stringify(config, null, 2)}\n`);

const parameters = trainable.reduce((n, v) => n + elementCount(v.shape), 0);
const size = (file: string): string => statSync(join(out, file)).size.toLocaleString('en-US');
const readme = `# Sample BERT checkpoint

A tiny BERT in the TF v1 checkpoint format of Google's BERT, generated by

\`\`\`sh
node --import tsx scripts/make-sample-bert.ts
\`\`\`

(the defaults: \`--out data/sample-bert --vocab data/sample-tokenizer/vocab.txt --seed ${DEFAULT_SEED}\`). The
generator is deterministic (same arguments, same bytes) and its header comment says how each value is
drawn. Rerun it after changing the sample vocabulary or \`SAMPLE_TRAIN_FLAGS\`. It exists so that
\`kbb warm-start\` and \`notebooks/03-warm-start.ipynb\` run on a fresh clone; the values are seeded
random numbers, not a trained model.

It has the shape of a checkpoint written by Google's BERT \`run_pretraining.py\`:

- \`bert_model.ckpt.index\` (${size('bert_model.ckpt.index')} bytes) and
  \`bert_model.ckpt.data-00000-of-00001\` (${size('bert_model.ckpt.data-00000-of-00001')} bytes), ${all.length} variables:
  ${trainable.length} trainable ones (${parameters.toLocaleString('en-US')} parameters, float32) under BERT's names (the
  embedding LayerNorm is \`bert/embeddings/LayerNorm\`, the MLM head \`cls/predictions/*\`, the NSP
  head \`cls/seq_relationship/*\`), each with its AdamWeightDecayOptimizer slots \`<name>/adam_m\` and
  \`<name>/adam_v\`, and \`global_step\` (int64, ${GLOBAL_STEP.toLocaleString('en-US')}).
- \`bert_config.json\`: the keys of the \`bert_config.json\` in Google's BERT downloads. Vocabulary
  ${config.vocab_size.toLocaleString('en-US')} (the sample tokenizer's) and ${config.max_position_embeddings} positions (BERT's); hidden size ${config.hidden_size}, ${config.num_hidden_layers} layers,
  ${config.num_attention_heads} heads and intermediate size ${config.intermediate_size}, the sample BigBird's (\`SAMPLE_TRAIN_FLAGS\`).

\`sampleBertCheckpoint\` (lib/package) is its prefix, the value \`--init_checkpoint\` takes.
`;
writeFileSync(join(out, 'README.md'), readme);
console.log(
  `wrote ${out}: ${all.length} variables (${trainable.length} trainable, ${parameters.toLocaleString('en-US')} parameters), ${size('bert_model.ckpt.data-00000-of-00001')} bytes of data`,
);
