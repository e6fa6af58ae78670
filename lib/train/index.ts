export { AdamW, type AdamWFlavour, type AdamWOptions, adamSlotNames, BERT_NO_DECAY, referenceLearningRate } from './adamw.js';
