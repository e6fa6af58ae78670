// kbb: every pipeline stage as plain typed functions. Notebooks, the REPL and the `kbb` command import from here.
export * from './checkpoint/index.js';
export * from './corpus/index.js';
export * from './model/index.js';
export * from './pretraining/index.js';
export * from './stats/index.js';
export * from './text/index.js';
export * from './tfrecord/index.js';
export * from './tokenizer/index.js';
export * from './train/index.js';
