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
