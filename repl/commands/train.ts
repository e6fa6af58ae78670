import { baseName } from '../../lib/fs/index.js';
import { TRAIN_DEFAULTS, TRAIN_PROGRESS_FIELDS, type TrainFlags, train, trainProgressFields } from '../../lib/train/index.js';
import { CancelledWithNote } from '../io/command-io.js';
import { deferredProgress } from '../io/deferred-progress.js';
import { defineCommand, type FlagDefinition } from '../registry/command-definition.js';

const d = TRAIN_DEFAULTS;

/** run_pretraining.py's and kobigbird/flags.py's flags, same names and defaults, and kbb's --gradient_accumulation_steps. */
export const trainFlags = [
  { name: 'data_dir', type: 'path', value: 'dir', default: d.data_dir, description: 'folder of pretrain_data.tfrecord* files (build-tfrecord output)' },
  {
    name: 'output_dir',
    type: 'path',
    value: 'dir',
    default: d.output_dir,
    description: 'checkpoints, event files, pretrain_config.json, tokenizer/; a checkpoint here is resumed',
  },
  { name: 'init_checkpoint', type: 'path', value: 'prefix', description: 'BERT checkpoint to warm-start from, or a BigBird checkpoint to start from whole' },
  {
    name: 'tokenizer_dir',
    type: 'path',
    value: 'dir',
    default: d.tokenizer_dir,
    description: 'tokenizer folder: the vocabulary size and special ids come from it',
  },
  { name: 'max_encoder_length', type: 'int', value: 'n', default: d.max_encoder_length, description: 'tokens per example; every record must have this many' },
  {
    name: 'max_predictions_per_seq',
    type: 'int',
    value: 'n',
    default: d.max_predictions_per_seq,
    description: 'prediction slots per example; every record must have this many',
  },
  {
    name: 'masked_lm_prob',
    type: 'float',
    value: 'p',
    default: d.masked_lm_prob,
    description: 'recorded in pretrain_config.json only (the data is already masked)',
  },
  { name: 'do_train', type: 'boolean', default: d.do_train, description: 'train' },
  { name: 'do_eval', type: 'boolean', default: d.do_eval, description: 'evaluate afterwards on --max_eval_steps batches into eval_results.txt' },
  { name: 'train_batch_size', type: 'int', value: 'n', default: d.train_batch_size, description: 'examples per batch' },
  { name: 'eval_batch_size', type: 'int', value: 'n', default: d.eval_batch_size, description: 'examples per evaluation batch' },
  {
    name: 'gradient_accumulation_steps',
    type: 'int',
    value: 'n',
    default: d.gradient_accumulation_steps,
    description: 'batches averaged per update (8 × batch 4 = the reference TPU run)',
  },
  { name: 'optimizer', type: 'string', value: 'name', default: d.optimizer, description: 'AdamWeightDecay' },
  { name: 'learning_rate', type: 'float', value: 'x', default: d.learning_rate, description: 'peak learning rate' },
  { name: 'num_train_steps', type: 'int', value: 'n', default: d.num_train_steps, description: 'updates in all (the schedule decays to 0 here)' },
  { name: 'num_warmup_steps', type: 'int', value: 'n', default: d.num_warmup_steps, description: 'linear warm-up steps' },
  { name: 'save_checkpoints_steps', type: 'int', value: 'n', default: d.save_checkpoints_steps, description: 'a checkpoint every n steps and at the end' },
  { name: 'keep_checkpoint_max', type: 'int', value: 'n', default: d.keep_checkpoint_max, description: 'checkpoints kept; older ones are deleted' },
  { name: 'max_eval_steps', type: 'int', value: 'n', default: d.max_eval_steps, description: 'evaluation batches' },
  { name: 'use_nsp', type: 'boolean', default: d.use_nsp, description: 'add the next-sentence loss' },
  { name: 'random_pos_emb', type: 'boolean', default: d.random_pos_emb, description: "a fresh position table instead of BERT's (BERT warm start)" },
  { name: 'seed', type: 'int', value: 'n', default: d.seed, description: 'seeds the data order, fresh weights and dropout' },
  {
    name: 'attention_type',
    type: 'string',
    value: 'type',
    default: d.attention_type,
    description: 'block_sparse or original_full (full anyway at ≤ 512 tokens)',
  },
  { name: 'block_size', type: 'int', value: 'n', default: d.block_size, description: 'tokens per attention block' },
  { name: 'num_rand_blocks', type: 'int', value: 'n', default: d.num_rand_blocks, description: 'random key blocks per query block' },
  { name: 'hidden_size', type: 'int', value: 'n', default: d.hidden_size, description: 'model width' },
  { name: 'num_hidden_layers', type: 'int', value: 'n', default: d.num_hidden_layers, description: 'layers' },
  { name: 'num_attention_heads', type: 'int', value: 'n', default: d.num_attention_heads, description: 'attention heads' },
  { name: 'intermediate_size', type: 'int', value: 'n', default: d.intermediate_size, description: 'feed-forward width' },
  { name: 'max_position_embeddings', type: 'int', value: 'n', default: d.max_position_embeddings, description: 'position table rows' },
  { name: 'hidden_act', type: 'string', value: 'name', default: d.hidden_act, description: "gelu (KoBigBird's tanh form)" },
  { name: 'hidden_dropout_prob', type: 'float', value: 'p', default: d.hidden_dropout_prob, description: 'dropout after embeddings and sub-layers' },
  {
    name: 'attention_probs_dropout_prob',
    type: 'float',
    value: 'p',
    default: d.attention_probs_dropout_prob,
    description: 'dropout on full-attention probabilities',
  },
  { name: 'initializer_range', type: 'float', value: 'σ', default: d.initializer_range, description: 'σ of fresh weights' },
  { name: 'type_vocab_size', type: 'int', value: 'n', default: d.type_vocab_size, description: 'token types' },
  { name: 'use_token_type', type: 'boolean', default: d.use_token_type, description: 'token-type embeddings (must stay on)' },
  { name: 'use_bias', type: 'boolean', default: d.use_bias, description: 'query/key/value biases' },
  { name: 'rescale_embedding', type: 'boolean', default: d.rescale_embedding, description: 'scale embeddings by √hidden' },
  {
    name: 'use_gradient_checkpointing',
    type: 'boolean',
    default: d.use_gradient_checkpointing,
    description: 'recorded only (kbb always recomputes attention)',
  },
  { name: 'scope', type: 'string', value: 'name', default: d.scope, description: 'variable scope (bert)' },
  { name: 'norm_type', type: 'string', value: 'name', default: d.norm_type, description: 'postnorm' },
  { name: 'weight_decay_rate', type: 'float', value: 'x', default: d.weight_decay_rate, description: 'AdamWeightDecay decay (not on LayerNorm and biases)' },
  { name: 'optimizer_beta1', type: 'float', value: 'x', default: d.optimizer_beta1, description: 'Adam β1' },
  { name: 'optimizer_beta2', type: 'float', value: 'x', default: d.optimizer_beta2, description: 'Adam β2' },
  { name: 'optimizer_epsilon', type: 'float', value: 'x', default: d.optimizer_epsilon, description: 'Adam ε' },
  { name: 'use_tpu', type: 'boolean', default: d.use_tpu, description: 'TPU flag: accepted, not used locally' },
  { name: 'tpu_name', type: 'string', value: 'name', description: 'TPU flag: accepted, not used locally' },
  { name: 'tpu_zone', type: 'string', value: 'zone', description: 'TPU flag: accepted, not used locally' },
  { name: 'tpu_job_name', type: 'string', value: 'name', hidden: true, description: 'TPU flag: accepted, not used locally' },
  { name: 'gcp_project', type: 'string', value: 'name', hidden: true, description: 'TPU flag: accepted, not used locally' },
  { name: 'master', type: 'string', value: 'address', hidden: true, description: 'TPU flag: accepted, not used locally' },
  { name: 'num_tpu_cores', type: 'int', value: 'n', default: d.num_tpu_cores, description: 'TPU flag: accepted, not used locally' },
  { name: 'iterations_per_loop', type: 'int', value: 'n', default: d.iterations_per_loop, description: 'TPU flag: accepted, not used locally' },
  { name: 'overwrite', type: 'boolean', default: d.overwrite, description: 'start afresh: remove an earlier run’s checkpoints, events and results here' },
  { name: 'backend', type: 'string', value: 'tensorflow|wasm|cpu', description: 'start from this backend (default: KBB_BACKEND, else the best installed)' },
] as const satisfies readonly FlagDefinition[];

/** `kbb train`: KoBigBird's run_pretraining.py in TensorFlow.js, with checkpoints the TF trainer shares. */
export const trainCommand = defineCommand({
  path: ['train'],
  description: "pretrain BigBird as KoBigBird's run_pretraining.py does: same flags, same checkpoints; resumes a run in --output_dir",
  flags: trainFlags,
  async run(args, io) {
    const { backend, ...given } = args;
    const flags = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Partial<TrainFlags>;
    // SIGTERM (a scheduler, `kill`) stops training as Ctrl-C does: after the step, with a checkpoint.
    const terminate = new AbortController();
    const onTerm = (): void => terminate.abort();
    process.once('SIGTERM', onTerm);
    const progress = deferredProgress(io, { label: 'training', unit: 'items', extra: TRAIN_PROGRESS_FIELDS });
    try {
      const result = await train({
        flags,
        ...(backend === undefined ? {} : { backend: backend as 'tensorflow' | 'wasm' | 'cpu' }),
        signal: AbortSignal.any([io.signal, terminate.signal]),
        onNote: (note) => io.text(`note: ${note}`),
        onProgress: (p) => progress.update(p.step - p.startStep, p.totalSteps - p.startStep, trainProgressFields(p)),
      }).finally(progress.stop);
      io.text(`backend   ${result.backend.backend} (${result.backend.packageName})`);
      if (result.firstLoss !== undefined) {
        io.text(
          `trained   steps ${result.startStep} → ${result.finalStep} of ${flags.num_train_steps ?? TRAIN_DEFAULTS.num_train_steps}, loss ${result.firstLoss.toFixed(4)} → ${result.lastLoss!.toFixed(4)}`,
        );
      }
      for (const prefix of result.checkpoints) io.text(`wrote     ${prefix}`);
      if (result.stopped) {
        const saved = baseName(result.checkpoints.at(-1) ?? '');
        throw new CancelledWithNote(`training stopped at step ${result.finalStep} (${saved} saved); run the same command to resume`);
      }
      if (result.evalResults) {
        io.table(
          ['eval', 'value'],
          Object.entries(result.evalResults).map(([key, value]) => [key, String(value)]),
        );
      }
    } finally {
      process.off('SIGTERM', onTerm);
    }
  },
});
