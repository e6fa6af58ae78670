export { kbbVersion, packageRoot, sampleCorpusDir, sampleTokenizerDir } from './package-files.js';
