import type { LayoutCellKind } from '../../lib/model/attention-layout.js';
import type { RandomPlanMode, RandomPlanReference } from '../../lib/model/random-plans.js';
import { TRAIN_DEFAULTS } from '../../lib/train/train-flags.js';
import { defineCommand } from '../registry/command-definition.js';

/** One character per cell, so that a 64-block layout is a 64-column picture. */
const CELL_CHARS: Readonly<Record<LayoutCellKind, string>> = { none: '·', global: 'G', window: 'W', random: 'R' };

const d = TRAIN_DEFAULTS;

/** `kbb attention`: the block-sparse layout notebook 04 draws, as text: which key blocks each query block attends. */
export const attentionCommand = defineCommand({
  path: ['attention'],
  description: 'show which key blocks each query block attends (global, window, random) for a length, layer and head, as the model computes it',
  flags: [
    { name: 'max_encoder_length', type: 'int', value: 'n', default: d.max_encoder_length, description: 'tokens (a multiple of --block_size)' },
    { name: 'block_size', type: 'int', value: 'n', default: d.block_size, description: 'tokens per attention block (KoBigBird: 64)' },
    { name: 'num_rand_blocks', type: 'int', value: 'n', default: d.num_rand_blocks, description: 'random key blocks per query block' },
    { name: 'num_hidden_layers', type: 'int', value: 'n', default: d.num_hidden_layers, description: 'layers (each draws its own random blocks)' },
    { name: 'num_attention_heads', type: 'int', value: 'n', default: d.num_attention_heads, description: 'heads (each draws its own random blocks)' },
    {
      name: 'max_position_embeddings',
      type: 'int',
      value: 'n',
      default: d.max_position_embeddings,
      description: 'position table rows (the reference draws its old plan for this length)',
    },
    { name: 'layer', type: 'int', value: 'l', default: 0, description: 'the layer to show' },
    { name: 'head', type: 'int', value: 'h', default: 0, description: 'the head to show' },
    {
      name: 'semantics',
      type: 'string',
      value: 'tf|hf',
      default: 'tf',
      description: "whose random plan: the TensorFlow reference's fixed one, or Hugging Face's",
    },
    { name: 'mode', type: 'string', value: 'train|eval', default: 'train', description: 'Hugging Face draws no random blocks in eval mode' },
    { name: 'json', type: 'boolean', description: 'print the layout (cells, visits, counts, fractions) as JSON' },
  ],
  async run(args, io) {
    if (args.semantics !== 'tf' && args.semantics !== 'hf') throw new Error(`--semantics ${args.semantics}: expected tf or hf`);
    if (args.mode !== 'train' && args.mode !== 'eval') throw new Error(`--mode ${args.mode}: expected train or eval`);
    const { randomPlanForConfig } = await import('../../lib/model/random-plans.js');
    const { blockSparseLayout, LAYOUT_CELL_KINDS } = await import('../../lib/model/attention-layout.js');
    const config = {
      block_size: args.block_size,
      num_random_blocks: args.num_rand_blocks,
      num_attention_heads: args.num_attention_heads,
      num_hidden_layers: args.num_hidden_layers,
      max_position_embeddings: args.max_position_embeddings,
    };
    const plan = randomPlanForConfig(config, args.max_encoder_length, args.mode as RandomPlanMode, args.semantics as RandomPlanReference);
    if (!(args.layer >= 0 && args.layer < args.num_hidden_layers)) throw new Error(`--layer ${args.layer} is not in 0..${args.num_hidden_layers - 1}`);
    if (!(args.head >= 0 && args.head < args.num_attention_heads)) throw new Error(`--head ${args.head} is not in 0..${args.num_attention_heads - 1}`);
    const layout = blockSparseLayout(plan, args.layer, args.head);
    if (args.json) return io.json({ plan: plan.kind, layer: args.layer, head: args.head, ...layout }, { indent: 2 });
    const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
    io.text(
      `${args.max_encoder_length} tokens = ${layout.numBlocks} blocks of ${args.block_size}; ${args.semantics === 'tf' ? 'reference' : 'Hugging Face'} ${args.mode} plan (${plan.kind}), layer ${args.layer} head ${args.head}`,
    );
    io.text(
      `computed ${percent(layout.computedFraction)} of the full score matrix (${layout.duplicateSlots} duplicate slots), covered ${percent(layout.coveredFraction)}; G global, W window, R random, · none`,
    );
    // What the model itself runs at this length: the layout is only used where block-sparse attention is.
    const { TF_FULL_ATTENTION_MAX_LENGTH } = await import('../../lib/model/bigbird.js');
    const { maxTokensForFullAttention } = await import('../../lib/model/bigbird-config.js');
    const hfFullUpTo = maxTokensForFullAttention(config);
    if (args.semantics === 'tf' && args.max_encoder_length <= TF_FULL_ATTENTION_MAX_LENGTH)
      io.text(`note: at ≤ ${TF_FULL_ATTENTION_MAX_LENGTH} tokens KoBigBird's TF model runs full attention instead of this layout`);
    if (args.semantics === 'hf' && args.max_encoder_length <= hfFullUpTo)
      io.text(`note: at ≤ ${hfFullUpTo} tokens ((5 + 2·r)·block) Hugging Face falls back to full attention instead of this layout`);
    const width = String(layout.numBlocks - 1).length;
    for (const [query, row] of layout.cells.entries())
      io.text(`${String(query).padStart(width)} ${row.map((code) => CELL_CHARS[LAYOUT_CELL_KINDS[code]]).join('')}`);
  },
});
