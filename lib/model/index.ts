export {
  type AttentionInputs,
  BLOCK_SPARSE_MASK_PENALTY,
  type BlockSparseGeometry,
  blockSparseAttention,
  FULL_ATTENTION_MASK_PENALTY,
  fullAttention,
  selfAttention,
} from './attention.js';
export { type AttentionCost, type AttentionCostOptions, measureAttentionCost } from './attention-cost.js';
export {
  type BlockSparseLayout,
  blockSparseKeySlots,
  blockSparseLayout,
  blockSparseScoreEntries,
  type KeySlot,
  LAYOUT_CELL,
  LAYOUT_CELL_KINDS,
  type LayoutCellKind,
  planRandomBlocks,
} from './attention-layout.js';
export {
  type BlockMassOptions,
  blockAttentionMass,
  blockSparseAttentionProbabilities,
  fullAttentionProbabilities,
  type LayerAttentionProbabilities,
  layerAttentionProbabilities,
} from './attention-probabilities.js';
export {
  type BigBirdBatch,
  BigBirdModel,
  type BigBirdModelOptions,
  type BigBirdOutput,
  type BigBirdSemantics,
  type ForwardOptions,
  type LossAndGrads,
  TF_FULL_ATTENTION_MAX_LENGTH,
  tfAttentionType,
} from './bigbird.js';
export {
  type Activation,
  type AttentionType,
  type BigBirdConfig,
  type BigBirdShapeConfig,
  checkModelConfig,
  HF_BIGBIRD_DEFAULTS,
  headSize,
  maxTokensForFullAttention,
  SUPPORTED_ACTIVATIONS,
} from './bigbird-config.js';
export {
  BIGBIRD_CONFIG_FIELDS,
  type ConfigFieldKind,
  formatTfConfigJson,
  type HfConfigFromTfOptions,
  hfConfigFromJson,
  hfConfigFromTf,
  PRETRAIN_CONFIG_FILE,
  readBigBirdConfig,
  type TfBigBirdConfig,
  tfActivationNote,
  tfConfigFromHf,
} from './config-files.js';
export { embed } from './embeddings.js';
export { encoderLayer } from './encoder.js';
export { crossEntropy, IGNORE_LABEL, labelledPositions, type MaskedLmTargets, mlmLogits, mlmLoss, nspLogits, pooler, referenceMlmLoss } from './heads.js';
export { initialBigBirdValues } from './initial-values.js';
export { activation, dense, dropout, geluExact, geluNew, layerNorm } from './nn.js';
export {
  bigBirdRandomPlan,
  OLD_PLAN_LENGTHS,
  type RandomPlan,
  type RandomPlanConfig,
  type RandomPlanKind,
  type RandomPlanMode,
  type RandomPlanOptions,
  type RandomPlanReference,
  randomAttentionSegments,
  randomBlockAt,
  randomPlanForConfig,
} from './random-plans.js';
export { type BigBirdHead, bigBirdModelVariables, bigBirdTfVariables, type NamedShape, type SkippedVariable } from './variables.js';
export { BigBirdWeights, type NamedArray } from './weights.js';
