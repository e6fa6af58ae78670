import { byCodePoints } from './compare-code-points.js';

/** A float as Python's `repr` writes it (which `json.dumps` uses): `0.0`, `1e-12`, `1e-05`, `1e+16`. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives the shortest round-tripping digits, as Python's repr does.
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

/** A JSON string as Python writes it with `ensure_ascii=True`: DEL and every non-ASCII UTF-16 unit escaped. */
const pythonString = (text: string): string => JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export interface PythonJsonOptions {
  /**
   * Top-level keys whose numbers Python holds as floats, so that a whole value is written `0.0`, not
   * `0` (JavaScript cannot tell 0 from 0.0). Numbers that are not safe integers are floats anyway.
   */
  readonly floatKeys?: ReadonlySet<string>;
}

/**
 * `value` as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it (`ensure_ascii` on,
 * Python's float formatting), without a trailing newline; undefined members are left out.
 */
export function pythonJsonDumps(value: unknown, options: PythonJsonOptions = {}): string {
  const floatKeys = options.floatKeys ?? new Set<string>();
  const dump = (v: unknown, indent: string, float: boolean): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'number') return float || !Number.isSafeInteger(v) ? pythonFloatRepr(v) : String(v);
    if (typeof v === 'string') return pythonString(v);
    const inner = `${indent}  `;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((item) => inner + dump(item, inner, float)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(byCodePoints(([key]) => key));
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([key, member]) => `${inner}${pythonString(key)}: ${dump(member, inner, indent === '' && floatKeys.has(key))}`).join(',\n')}\n${indent}}`;
  };
  return dump(value, '', false);
}
