export { AlignedZipWriter, type AlignedZipWriterOptions } from './aligned-zip-writer.js';
export { formatHfConfigJson } from './hf-config-json.js';
export * from './hf-export.js';
export * from './hf-import.js';
export {
  bigBirdHfParameters,
  HF_BIGBIRD_TIED_PARAMETERS,
  type HfName,
  hfToTfName,
  type TfName,
  tfToHfName,
  transpose2d,
  transposeBytes2d,
} from './hf-names.js';
export { hfRenameRules } from './hf-rename-rules.js';
export { loadWeightsFromSafetensors, toHfNamed } from './hf-weights.js';
export * from './pytorch-bin.js';
export * from './safetensors.js';
export { contiguousStrides, type PickledTensor, stateDictPickle } from './state-dict-pickle.js';
