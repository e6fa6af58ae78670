import type { BigBirdConfig } from '../model/bigbird-config.js';
import { BIGBIRD_CONFIG_FIELDS } from '../model/config-files.js';
import { pythonJsonDumps } from '../text/python-json.js';

/** Fields Python holds as floats, so that a whole value is written `0.0` as HF's file has it, not `0`. */
const FLOAT_FIELDS: ReadonlySet<string> = new Set(
  Object.entries(BIGBIRD_CONFIG_FIELDS)
    .filter(([, kind]) => kind === 'float' || kind === 'floatOrNull')
    .map(([key]) => key),
);

/**
 * `config.json` text byte for byte as HF's `save_pretrained` writes it (`json.dumps(indent=2,
 * sort_keys=True)` plus a newline), Python's float formatting included; undefined fields are left out.
 */
export function formatHfConfigJson(config: BigBirdConfig | Readonly<Record<string, unknown>>): string {
  return `${pythonJsonDumps(config, { floatKeys: FLOAT_FIELDS })}\n`;
}
