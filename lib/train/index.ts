export { AdamW, type AdamWFlavour, type AdamWOptions, adamSlotNames, BERT_NO_DECAY, referenceLearningRate } from './adamw.js';
export { type EvalResults, float32Text, formatEvalResults } from './eval-results.js';
export { estimateTrainingMemory, type TrainingMemoryEstimate, type TrainingShape, trainingMemoryLimit } from './memory-estimate.js';
export {
  type PretrainingBatch,
  PretrainingInput,
  type PretrainingInputOptions,
  type PretrainingInputState,
  SHUFFLE_BUFFER_EXAMPLES,
  TRAINING_FILE_PREFIX,
} from './pretraining-input.js';
export { type TrainOptions, type TrainProgress, type TrainResult, train } from './train.js';
export {
  listedCheckpoints,
  readTrainingCheckpoint,
  removeTrainingOutput,
  type SaveCheckpointOptions,
  saveTrainingCheckpoint,
  TRAIN_STATE_SUFFIX,
  type TrainingCheckpoint,
} from './train-checkpoints.js';
export { pretrainConfig, SAMPLE_TRAIN_FLAGS, TOKENIZER_ID_KEYS, TPU_FLAGS, TRAIN_DEFAULTS, type TrainFlags, trainFlagProblems } from './train-flags.js';
export { TRAIN_PROGRESS_FIELDS, trainProgressFields, trainProgressLine } from './train-progress-fields.js';
export { readTrainingRun, type TrainingRunCursor, type TrainingRunStatus } from './training-run.js';
