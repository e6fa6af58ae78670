export {
  BUILD_JOB_DEFAULTS,
  BUILD_JOB_KINDS,
  type BuildJobKind,
  type BuildJobOptions,
  buildJobArgs,
  buildJobNextSteps,
  cloudBatchBuildJob,
  emitBuildJob,
  kubernetesBuildJob,
} from './build-job.js';
export { crc32cOfFile } from './file-crc32c.js';
export { type PlanTpuResult, planTpu, readTpuPlan } from './plan-tpu.js';
export { readTpuPlanInputs } from './read-tpu-plan-inputs.js';
export { relocateTpuPlanInputs, type TpuPlanRelocation } from './relocate-tpu-plan-inputs.js';
export {
  STAGE_DEFAULTS,
  STAGE_LAYOUT,
  type StagedFile,
  type StagedPaths,
  type StageEntry,
  type StageOptions,
  type StagePhase,
  type StageProgress,
  type StageResult,
  stage,
  stagedPaths,
  stageEntries,
  verifyStaged,
} from './stage.js';
export { type TpuPlanCheck, tpuPlanChecks } from './tpu-check-list.js';
export {
  checkpointWarmStart,
  type DataSummary,
  type RecordShape,
  TPU_PLAN_CHECK_IDS,
  type TpuPlanCheckId,
  type TpuPlanFinding,
  type TpuPlanInputs,
  tpuPlanFindings,
  tpuPlanProblems,
} from './tpu-checks.js';
export { sendCreateNode, sendDeleteNode } from './tpu-client.js';
export {
  BASE_SIZE_TPU_FLAGS,
  createCommand,
  deleteCommand,
  formatTpuPlan,
  launchScript,
  makeTpuPlan,
  REFERENCE_TRAINER,
  shellQuote,
  startupScript,
  type TpuPlan,
  type TpuPlanFigures,
  tpuNodeName,
  trainerArgv,
} from './tpu-plan.js';
export { createNodeRequest, deleteNodeRequest, KBB_LABEL } from './tpu-requests.js';
export {
  runtimeTensorflowVersion,
  TF_WITHOUT_ESTIMATOR,
  TPU_DEFAULTS,
  TPU_PLAN_FILES,
  type TpuAccelerator,
  type TpuSettings,
  tpuAccelerator,
} from './tpu-settings.js';
