import { fileSystemFor, InputError, readTextFile } from '../fs/index.js';
import { withSortedKeys } from '../text/compare-code-points.js';
import { type BigBirdConfig, HF_BIGBIRD_DEFAULTS } from './bigbird-config.js';

/*
 * The two files a BigBird config comes in, Hugging Face's `config.json` and KoBigBird's
 * `pretrain_config.json` (TF flag names, spec §3.1), both read into one `BigBirdConfig`; and the TF
 * file written back from one (the trainer and import-hf write it). Writing HF's `config.json` is
 * conversion: lib/convert/hf-config-json.ts.
 */

/** The TF trainer's config file, written beside its checkpoints (spec §3.1). */
export const PRETRAIN_CONFIG_FILE = 'pretrain_config.json';

/** The keys of KoBigBird's `pretrain_config.json` (spec §3.1) that the converter reads. */
export interface TfBigBirdConfig {
  readonly attention_probs_dropout_prob: number;
  readonly attention_type: string;
  readonly block_size: number;
  readonly bos_token_id: number;
  readonly eos_token_id: number;
  readonly hidden_dropout_prob: number;
  readonly hidden_size: number;
  readonly initializer_range: number;
  readonly intermediate_size: number;
  readonly max_position_embeddings: number;
  readonly num_attention_heads: number;
  readonly num_hidden_layers: number;
  readonly num_rand_blocks: number;
  readonly pad_token_id: number;
  readonly rescale_embedding: boolean;
  readonly sep_token_id: number;
  readonly type_vocab_size: number;
  readonly use_bias: boolean;
  readonly use_gradient_checkpointing: boolean;
  readonly vocab_size: number;
}

export interface HfConfigFromTfOptions {
  /** Default `["BigBirdForPreTraining"]`, what the converter's model class writes. */
  readonly architectures?: readonly string[];
  /** Default "4.11.3", the version KoBigBird converted with and its published config names. */
  readonly transformersVersion?: string;
}

export type ConfigFieldKind = 'int' | 'float' | 'bool' | 'string' | 'intOrNull' | 'floatOrNull' | 'strings';

/** The JSON type of every `config.json` field the config holds. */
export const BIGBIRD_CONFIG_FIELDS: Readonly<Record<string, ConfigFieldKind>> = {
  architectures: 'strings',
  attention_probs_dropout_prob: 'float',
  attention_type: 'string',
  block_size: 'int',
  bos_token_id: 'intOrNull',
  classifier_dropout: 'floatOrNull',
  eos_token_id: 'intOrNull',
  gradient_checkpointing: 'bool',
  hidden_act: 'string',
  hidden_dropout_prob: 'float',
  hidden_size: 'int',
  initializer_range: 'float',
  intermediate_size: 'int',
  layer_norm_eps: 'float',
  max_position_embeddings: 'int',
  model_type: 'string',
  num_attention_heads: 'int',
  num_hidden_layers: 'int',
  num_random_blocks: 'int',
  pad_token_id: 'intOrNull',
  position_embedding_type: 'string',
  rescale_embeddings: 'bool',
  sep_token_id: 'intOrNull',
  tokenizer_class: 'string',
  torch_dtype: 'string',
  transformers_version: 'string',
  type_vocab_size: 'int',
  use_bias: 'bool',
  use_cache: 'bool',
  vocab_size: 'int',
};

/** TF key → HF key, for the keys the converter copies (spec §4); the rest keep their names. */
const TF_TO_HF: Readonly<Record<keyof TfBigBirdConfig, keyof BigBirdConfig>> = {
  attention_probs_dropout_prob: 'attention_probs_dropout_prob',
  attention_type: 'attention_type',
  block_size: 'block_size',
  bos_token_id: 'bos_token_id',
  eos_token_id: 'eos_token_id',
  hidden_dropout_prob: 'hidden_dropout_prob',
  hidden_size: 'hidden_size',
  initializer_range: 'initializer_range',
  intermediate_size: 'intermediate_size',
  max_position_embeddings: 'max_position_embeddings',
  num_attention_heads: 'num_attention_heads',
  num_hidden_layers: 'num_hidden_layers',
  num_rand_blocks: 'num_random_blocks',
  pad_token_id: 'pad_token_id',
  rescale_embedding: 'rescale_embeddings',
  sep_token_id: 'sep_token_id',
  type_vocab_size: 'type_vocab_size',
  use_bias: 'use_bias',
  use_gradient_checkpointing: 'gradient_checkpointing',
  vocab_size: 'vocab_size',
};

const ATTENTION_TYPES: readonly string[] = ['block_sparse', 'original_full'];
/** Largest config file read: KoBigBird's is under 2 KB; anything near this is not a config. */
const MAX_CONFIG_BYTES = 1 << 20;

/** Why `value` is not a `kind`, or undefined when it is. */
function typeProblem(value: unknown, kind: ConfigFieldKind): string | undefined {
  const ok =
    kind === 'int'
      ? Number.isSafeInteger(value)
      : kind === 'intOrNull'
        ? value === null || Number.isSafeInteger(value)
        : kind === 'float'
          ? typeof value === 'number' && Number.isFinite(value)
          : kind === 'floatOrNull'
            ? value === null || (typeof value === 'number' && Number.isFinite(value))
            : kind === 'bool'
              ? typeof value === 'boolean'
              : kind === 'string'
                ? typeof value === 'string'
                : Array.isArray(value) && value.every((v) => typeof v === 'string');
  const described = {
    int: 'an integer',
    intOrNull: 'an integer or null',
    float: 'a number',
    floatOrNull: 'a number or null',
    bool: 'true or false',
    string: 'a string',
    strings: 'a list of strings',
  }[kind];
  return ok ? undefined : `${JSON.stringify(value)} is not ${described}`;
}

/** Fields that size parameters: each at least 1. */
const POSITIVE_SIZES = [
  'vocab_size',
  'hidden_size',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'type_vocab_size',
  'block_size',
] as const;
/** Layers, at most: each is 16 variables listed up front, and the deepest published transformers have a few hundred. */
const MAX_LAYERS = 4096;
/**
 * Elements in one parameter tensor, at most: tfjs and TF index tensors with 32-bit integers, so a
 * config asking for more (a corrupt or hostile `vocab_size: 1e15`) is refused here rather than when
 * a command tries to allocate it.
 */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/**
 * Refuses values no BigBird can have, naming the key and what was expected: sizes that are not
 * positive, a hidden size the heads do not divide, parameters too large to hold, probabilities outside
 * [0, 1], negative token ids, an attention type HF does not implement. Types are checked before.
 */
function checkConfigValues(config: BigBirdConfig, where: string): void {
  const fail = (message: string): never => {
    throw new InputError(where, `${where}: ${message}`);
  };
  if (!ATTENTION_TYPES.includes(config.attention_type)) {
    // TF's `simulated_sparse` has no HF implementation: the converter would fail building the model.
    fail(`attention_type ${JSON.stringify(config.attention_type)} is not one of ${ATTENTION_TYPES.join(', ')}`);
  }
  for (const key of POSITIVE_SIZES) {
    const value = config[key];
    if (!(value >= 1 && value <= MAX_TENSOR_ELEMENTS)) fail(`${key} is ${value}, expected an integer from 1 to ${MAX_TENSOR_ELEMENTS}`);
  }
  if (!(config.num_hidden_layers >= 1 && config.num_hidden_layers <= MAX_LAYERS))
    fail(`num_hidden_layers is ${config.num_hidden_layers}, expected an integer from 1 to ${MAX_LAYERS}`);
  if (!(config.num_random_blocks >= 0 && config.num_random_blocks <= MAX_TENSOR_ELEMENTS))
    fail(`num_random_blocks is ${config.num_random_blocks}, expected an integer from 0 to ${MAX_TENSOR_ELEMENTS}`);
  if (config.hidden_size % config.num_attention_heads !== 0) {
    fail(`hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`);
  }
  for (const [rows, cols] of [
    ['vocab_size', 'hidden_size'],
    ['max_position_embeddings', 'hidden_size'],
    ['hidden_size', 'intermediate_size'],
  ] as const) {
    if (config[rows] * config[cols] > MAX_TENSOR_ELEMENTS)
      fail(
        `${rows} ${config[rows]} × ${cols} ${config[cols]} is a parameter of ${config[rows] * config[cols]} elements, more than the ${MAX_TENSOR_ELEMENTS} a tensor can hold`,
      );
  }
  for (const key of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    if (!(config[key] >= 0 && config[key] <= 1)) fail(`${key} is ${config[key]}, expected a probability in [0, 1]`);
  }
  if (config.classifier_dropout !== null && !(config.classifier_dropout >= 0 && config.classifier_dropout <= 1))
    fail(`classifier_dropout is ${config.classifier_dropout}, expected null or a probability in [0, 1]`);
  if (!(config.layer_norm_eps > 0)) fail(`layer_norm_eps is ${config.layer_norm_eps}, expected a positive number`);
  if (!(config.initializer_range >= 0)) fail(`initializer_range is ${config.initializer_range}, expected a non-negative number`);
  for (const key of ['pad_token_id', 'bos_token_id', 'eos_token_id', 'sep_token_id'] as const) {
    const value = config[key];
    if (value !== null && value < 0) fail(`${key} is ${value}, expected a token id (0 or more) or null`);
  }
}

/**
 * The HF `config.json` object KoBigBird's converter writes from a `pretrain_config.json` (spec §4):
 * the copied keys with their renames, fixed `position_embedding_type` and `tokenizer_class`, and
 * HF defaults for the rest. `hidden_act` is deliberately not copied, as in the converter: TF's
 * "gelu" is the tanh form, which is HF's default `gelu_new`. Keys come out sorted, as HF writes them.
 */
export function hfConfigFromTf(tfConfig: Readonly<Record<string, unknown>>, options: HfConfigFromTfOptions = {}, where = PRETRAIN_CONFIG_FILE): BigBirdConfig {
  const copied: Record<string, unknown> = {};
  for (const [tfKey, hfKey] of Object.entries(TF_TO_HF)) {
    if (!Object.hasOwn(tfConfig, tfKey))
      throw new InputError(where, `${where}: missing ${JSON.stringify(tfKey)} (the converter copies it to ${JSON.stringify(hfKey)})`);
    const problem = typeProblem(tfConfig[tfKey], BIGBIRD_CONFIG_FIELDS[hfKey]);
    if (problem) throw new InputError(where, `${where}: ${tfKey} ${problem}`);
    copied[hfKey] = tfConfig[tfKey];
  }
  const config = withSortedKeys({
    architectures: [...(options.architectures ?? ['BigBirdForPreTraining'])],
    classifier_dropout: HF_BIGBIRD_DEFAULTS.classifier_dropout,
    hidden_act: HF_BIGBIRD_DEFAULTS.hidden_act,
    layer_norm_eps: HF_BIGBIRD_DEFAULTS.layer_norm_eps,
    model_type: 'big_bird',
    position_embedding_type: 'absolute',
    tokenizer_class: 'BertTokenizer',
    torch_dtype: 'float32',
    transformers_version: options.transformersVersion ?? '4.11.3',
    use_cache: HF_BIGBIRD_DEFAULTS.use_cache,
    ...copied,
  }) as unknown as BigBirdConfig;
  checkConfigValues(config, where);
  return config;
}

/**
 * An HF BigBird config from an object with HF field names (a parsed `config.json`): types checked,
 * missing fields filled with HF's defaults, fields this toolkit does not use dropped.
 */
export function hfConfigFromJson(json: Readonly<Record<string, unknown>>, where = 'config.json'): BigBirdConfig {
  if (json.model_type !== 'big_bird') throw new InputError(where, `${where}: model_type is ${JSON.stringify(json.model_type)}, expected "big_bird"`);
  const config: Record<string, unknown> = { ...HF_BIGBIRD_DEFAULTS };
  for (const [key, kind] of Object.entries(BIGBIRD_CONFIG_FIELDS)) {
    if (!Object.hasOwn(json, key)) continue;
    const problem = typeProblem(json[key], kind);
    if (problem) throw new InputError(where, `${where}: ${key} ${problem}`);
    config[key] = Array.isArray(json[key]) ? [...(json[key] as string[])] : json[key];
  }
  const result = withSortedKeys(config) as unknown as BigBirdConfig;
  checkConfigValues(result, where);
  return result;
}

/**
 * Reads a BigBird config with HF field names from either an HF `config.json` (it has
 * `"model_type": "big_bird"`) or KoBigBird's `pretrain_config.json` (converted as the converter does),
 * local or `gs://`.
 */
export async function readBigBirdConfig(path: string): Promise<BigBirdConfig> {
  let text: string;
  try {
    const info = await fileSystemFor(path).stat(path);
    if (info?.isDirectory) throw new InputError(path, `${path}: is a folder, expected a config file (config.json or pretrain_config.json)`);
    if (info && info.size > MAX_CONFIG_BYTES)
      throw new InputError(path, `${path}: ${info.size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit for a config file`);
    text = await readTextFile(path);
  } catch (error) {
    if (error instanceof InputError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw Object.assign(new InputError(path, `${path}: config file not found`, { cause: error }), { code: 'ENOENT' });
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(path, `${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError(path, `${path}: not a JSON object`);
  const record = json as Record<string, unknown>;
  if (Object.hasOwn(record, 'model_type')) return hfConfigFromJson(record, path);
  if (Object.hasOwn(record, 'num_rand_blocks')) return hfConfigFromTf(record, {}, path);
  throw new InputError(path, `${path}: neither an HF config.json (no "model_type") nor a KoBigBird pretrain_config.json (no "num_rand_blocks")`);
}

/**
 * A KoBigBird `pretrain_config.json` object (TF flag names, spec §3.1) for an HF config: the
 * converter's renames undone, so that `hfConfigFromTf(tfConfigFromHf(c))` gives `c`'s model fields
 * back, plus the model flags the TF trainer reads that HF has no field for. HF's `gelu_new` is TF's
 * `gelu` (both the tanh form). HF's exact-erf `gelu` also becomes TF's `gelu`, the closest KoBigBird's
 * TF code has (`tfActivationNote` says so); other activations keep their name.
 */
export function tfConfigFromHf(config: BigBirdConfig): Record<string, unknown> {
  const hiddenAct = config.hidden_act === 'gelu_new' ? 'gelu' : config.hidden_act;
  const tf: Record<string, unknown> = {
    hidden_act: hiddenAct,
    max_encoder_length: config.max_position_embeddings,
    norm_type: 'postnorm',
    scope: 'bert',
    use_token_type: config.type_vocab_size > 0,
  };
  for (const [tfKey, hfKey] of Object.entries(TF_TO_HF)) {
    const value = config[hfKey];
    tf[tfKey] = value === undefined ? (tfKey === 'use_gradient_checkpointing' ? false : value) : value;
  }
  return withSortedKeys(tf);
}

/** Why the TF model will not compute exactly what the HF one does, or undefined when it will. */
export function tfActivationNote(config: BigBirdConfig): string | undefined {
  return config.hidden_act === 'gelu'
    ? 'hidden_act "gelu" is the exact (erf) GELU in Hugging Face; KoBigBird\'s TF "gelu" is the tanh form (HF "gelu_new"), so activations differ by up to about 1e-3'
    : undefined;
}

/** `pretrain_config.json` text as the TF trainer writes it (`json.dump(indent=4, sort_keys=True)`). */
export function formatTfConfigJson(tfConfig: Readonly<Record<string, unknown>>): string {
  return `${JSON.stringify(withSortedKeys({ ...tfConfig }), null, 4)}\n`;
}
