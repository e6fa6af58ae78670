export { measureMatMulSpeed, type MatMulSpeed } from './matmul-speed.js';
export {
  BACKEND_PREFERENCES,
  type BackendPreference,
  type BackendSelection,
  type BackendSelectionOptions,
  describeBackendSelection,
  selectBackend,
  type SkippedBackend,
} from './select-backend.js';
export { ensureTrainingGradients } from './training-gradients.js';
