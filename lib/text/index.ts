export { byCodePoints, compareCodePoints, withSortedKeys } from './compare-code-points.js';
export { formatDuration } from './format-duration.js';
export { isPythonWhitespace, pyStrip } from './py-strip.js';
export { type PythonJsonOptions, pythonFloatRepr, pythonJsonDumps } from './python-json.js';
