export { kbbVersion, packageRoot, sampleBertCheckpoint, sampleBertDir, sampleCorpusDir, sampleTokenizerDir } from './package-files.js';
