// The corpus readers strip lines exactly as Python's `str.strip()` does (spec §1.4). The one
// implementation lives with the other text primitives; it is re-exported here so corpus code and
// its users find it beside the readers that depend on it.
export { isPythonWhitespace, pyStrip } from '../text/py-strip.js';
