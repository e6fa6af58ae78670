// kbb: every pipeline stage as plain typed functions. Notebooks, the REPL and the `kbb` command import
// from here. Folders in name order; their layout (the stages in pipeline order over the shared
// machinery) and what each may import is in lib/README.md.

export * from './autodiff/index.js';
export * from './backend/index.js';
export * from './checkpoint/index.js';
export * from './checksum/index.js';
export * from './cloud/index.js';
export * from './convert/index.js';
export * from './corpus/index.js';
export * from './fs/index.js';
export * from './model/index.js';
export * from './package/index.js';
export * from './pretraining/index.js';
export * from './random/index.js';
export * from './tensor/index.js';
export * from './tensorboard/index.js';
export * from './text/index.js';
export * from './tfrecord/index.js';
export * from './tokenizer/index.js';
export * from './train/index.js';
