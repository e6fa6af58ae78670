import { tfToHfName } from './hf-names.js';

/*
 * Why a TF variable gets its HF name: the steps of HF's `load_tf_weights_in_big_bird` (spec §4) that
 * change something for this variable, in words, for tables that teach the renaming. `tfToHfName`
 * stays the one source of the names themselves; these are only their explanation.
 */

/** Leaf renames, by the TF name's last path element. */
const LEAF_RULES: Readonly<Record<string, string>> = {
  // TF's dense kernel is [in, out], PyTorch's Linear weight [out, in].
  kernel: 'kernel → weight (transposed)',
  gamma: 'gamma → weight',
  beta: 'beta → bias',
  word_embeddings: '+ .weight',
  position_embeddings: '+ .weight',
  token_type_embeddings: '+ .weight',
  // Stored [2, hidden] and used with transpose_b: already [out, in].
  output_weights: 'output_weights → weight (not transposed)',
};

/**
 * The renaming rules that apply to a KoBigBird TF variable on its way to its HF name (`tfToHfName`),
 * in the order the converter applies them; `['/ → .']` when only the separator changes. Undefined
 * for what is not exported (optimizer slots, `global_step`, anything `tfToHfName` does not map).
 */
export function hfRenameRules(tfName: string): string[] | undefined {
  const mapped = tfToHfName(tfName);
  if (!mapped) return undefined;
  const path = tfName.split('/');
  const leaf = path[path.length - 1];
  const rules: string[] = [];
  // KoBigBird keeps the embeddings' LayerNorm in the encoder scope; HF's model has it in the embeddings.
  if (tfName.startsWith('bert/encoder/LayerNorm/')) rules.push('encoder LayerNorm → embeddings');
  if (/^layer_\d+$/.test(path[2] ?? '') && path[1] === 'encoder') rules.push('layer_N → layer.N');
  // HF's loader skips path elements it has no attribute for: its pooler is the Linear itself.
  if (tfName.startsWith('bert/pooler/dense/')) rules.push('pooler/dense → pooler');
  if (tfName === 'cls/predictions/output_bias') rules.push("output_bias → bias (the decoder's, tied)");
  else if (leaf === 'output_bias') rules.push('output_bias → bias');
  if (Object.hasOwn(LEAF_RULES, leaf)) rules.push(LEAF_RULES[leaf]);
  return rules.length > 0 ? rules : ['/ → .'];
}
