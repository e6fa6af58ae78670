export { compareCodePoints } from './compare-code-points.js';
export { isPythonWhitespace, pyStrip } from './py-strip.js';
