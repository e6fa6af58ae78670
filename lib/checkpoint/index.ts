export { CheckpointError } from './checkpoint-error.js';
export { CHECKPOINT_STATE_FILE, checkpointName, checkpointStep, refuseExistingCheckpoint } from './checkpoint-files.js';
export { type CheckpointState, formatCheckpointState, latestCheckpoint, parseCheckpointState, writeCheckpointState } from './checkpoint-state.js';
export { loadWeightsFromCheckpoint } from './checkpoint-weights.js';
export { type CheckpointChange, type CheckpointDiffRow, diffCheckpoints } from './diff-checkpoints.js';
export { DTYPE_BYTES, type DType, decodeValues, type TensorValues, TF_DTYPES } from './dtypes.js';
export { CheckpointReader, type CheckpointReaderOptions, type CheckpointVariable, dataFileName, type Tensor } from './tensor-bundle-reader.js';
export { type CheckpointWriteOptions, type TensorToWrite, writeCheckpoint } from './tensor-bundle-writer.js';
export {
  bigBirdVariables,
  type MaterialiseOptions,
  materialiseWarmStart,
  planWarmStart,
  planWarmStartRun,
  type TargetVariable,
  type UnusedSource,
  validateWarmStartRun,
  WARM_START_CHECKPOINT,
  WARM_START_DEFAULTS,
  type WarmStartAction,
  type WarmStartOptions,
  type WarmStartPlan,
  type WarmStartRow,
  type WarmStartRun,
  warmStart,
  warmStartSummary,
  warmStartTensors,
} from './warm-start.js';
