export { CheckpointError } from './checkpoint-error.js';
export { type CheckpointState, formatCheckpointState, latestCheckpoint, parseCheckpointState, writeCheckpointState } from './checkpoint-state.js';
export { loadWeightsFromCheckpoint } from './checkpoint-weights.js';
export { type CheckpointChange, type CheckpointDiffRow, diffCheckpoints } from './diff-checkpoints.js';
export { decodeValues, type DType, DTYPE_BYTES, TF_DTYPES, type TensorValues } from './dtypes.js';
export { type CheckpointVariable, CheckpointReader, dataFileName, type Tensor } from './tensor-bundle-reader.js';
export { type CheckpointWriteOptions, type TensorToWrite, writeCheckpoint } from './tensor-bundle-writer.js';
export {
  bigBirdVariables,
  type MaterialiseOptions,
  materialiseWarmStart,
  planWarmStart,
  type TargetVariable,
  type UnusedSource,
  WARM_START_CHECKPOINT,
  WARM_START_DEFAULTS,
  type WarmStartAction,
  type WarmStartOptions,
  type WarmStartPlan,
  type WarmStartRow,
  type WarmStartRun,
  warmStart,
} from './warm-start.js';
