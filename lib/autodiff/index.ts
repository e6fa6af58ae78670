export { gatherRows } from './gather-rows.js';
export { leanGradients, leanVariableGrads, type VariableGrads } from './lean-gradients.js';
export { peakDataBytes } from './memory-meter.js';
export { recomputed } from './recompute.js';
