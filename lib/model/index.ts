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
  hfConfigFromJson,
  hfConfigFromTf,
  type HfConfigFromTfOptions,
  readBigBirdConfig,
  type TfBigBirdConfig,
  tfActivationNote,
  tfConfigFromHf,
} from './config-files.js';
export { type BigBirdHead, bigBirdModelVariables, bigBirdTfVariables, type NamedShape } from './variables.js';
export {
  bigBirdRandomPlan,
  OLD_PLAN_LENGTHS,
  randomAttentionSegments,
  randomBlockAt,
  type RandomPlan,
  type RandomPlanKind,
  type RandomPlanMode,
  type RandomPlanOptions,
  type RandomPlanReference,
} from './random-plans.js';
export { activation, dense, dropout, geluExact, geluNew, layerNorm } from './nn.js';
export { embed } from './embeddings.js';
export { type AttentionInputs, BLOCK_SPARSE_MASK_PENALTY, blockSparseAttention, type BlockSparseGeometry, FULL_ATTENTION_MASK_PENALTY, fullAttention, selfAttention } from './attention.js';
export { encoderLayer } from './encoder.js';
export { crossEntropy, IGNORE_LABEL, labelledPositions, mlmLogits, mlmLoss, nspLogits, pooler } from './heads.js';
export { BigBirdWeights, type NamedArray } from './weights.js';
export { type BigBirdBatch, BigBirdModel, type BigBirdModelOptions, type BigBirdOutput, type ForwardOptions, type LossAndGrads } from './bigbird.js';
