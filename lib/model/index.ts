export { NumpyLegacyRandom } from '../random/numpy-legacy-random.js';
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
export { type Activation, type AttentionType, type BigBirdConfig, checkModelConfig, headSize, maxTokensForFullAttention, SUPPORTED_ACTIVATIONS } from './bigbird-config.js';
export { BigBirdWeights, bigBirdModelVariables, type BigBirdHead, type NamedArray, toHfNamed } from './weights.js';
export { gatherRows } from './gather-rows.js';
export { activation, dense, dropout, geluExact, geluNew, layerNorm } from './nn.js';
export { embed } from './embeddings.js';
export { type AttentionInputs, BLOCK_SPARSE_MASK_PENALTY, blockSparseAttention, type BlockSparseGeometry, FULL_ATTENTION_MASK_PENALTY, fullAttention, selfAttention } from './attention.js';
export { encoderLayer } from './encoder.js';
export { crossEntropy, IGNORE_LABEL, labelledPositions, mlmLogits, mlmLoss, nspLogits, pooler } from './heads.js';
export { type BigBirdBatch, BigBirdModel, type BigBirdModelOptions, type BigBirdOutput, type ForwardOptions, type LossAndGrads } from './bigbird.js';
export { BACKEND_PREFERENCES, type BackendPreference, type BackendSelection, type BackendSelectionOptions, describeBackendSelection, selectBackend, type SkippedBackend } from './backend.js';
export { ensureTrainingGradients } from './backend-gradients.js';
export { measureMatMulSpeed, type MatMulSpeed } from './matmul-speed.js';
