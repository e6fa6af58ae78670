export { activationBudgetBytes } from './activation-budget.js';
export { type MatMulSpeed, measureMatMulSpeed } from './matmul-speed.js';
export {
  BACKEND_PREFERENCES,
  type BackendPreference,
  type BackendSelection,
  type BackendSelectionOptions,
  describeBackendSelection,
  type SkippedBackend,
  selectBackend,
} from './select-backend.js';
export { ensureTrainingGradients } from './training-gradients.js';
