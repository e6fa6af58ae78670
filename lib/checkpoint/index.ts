export { CheckpointError } from './checkpoint-error.js';
export { type CheckpointState, formatCheckpointState, latestCheckpoint, parseCheckpointState, writeCheckpointState } from './checkpoint-state.js';
export { decodeValues, type DType, DTYPE_BYTES, TF_DTYPES, type TensorValues } from './dtypes.js';
export { type CheckpointVariable, CheckpointReader, dataFileName, type Tensor } from './tensor-bundle-reader.js';
export { type CheckpointWriteOptions, type TensorToWrite, writeCheckpoint } from './tensor-bundle-writer.js';
export { type BigBirdInitConfig, bigBirdVariables, readBigBirdShapeConfig } from './bigbird-variables.js';
export * from './hf-bigbird-names.js';
export * from './safetensors.js';
export { type MaterialiseOptions, materialiseWarmStart, planWarmStart, type TargetVariable, type UnusedSource, type WarmStartAction, type WarmStartOptions, type WarmStartPlan, type WarmStartRow } from './warm-start.js';
