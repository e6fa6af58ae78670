import { TokenizerLoadError } from './load-tokenizer.js';

export type JsonScalar = string | number | boolean | null;

/**
 * `text` (a JSON object) with the top-level keys of `updates` set: an existing key keeps its place,
 * a new one goes at the end. The result is indented by two spaces with a trailing newline, like
 * Python's `json.dumps(indent=2)` + "\n".
 *
 * Everything else is kept token for token rather than parsed and re-serialized: JSON.parse would
 * move index-like keys ("0", "100" in transformers' `added_tokens_decoder`) to the front and round
 * Python's big integers (model_max_length 1000000000000000019884624838656) to `1e+30`.
 */
export function tokenizerConfigText(text: string, updates: Readonly<Record<string, JsonScalar>>, file: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TokenizerLoadError(file, `invalid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TokenizerLoadError(file, 'expected a JSON object');

  const members = topLevelMembers(lex(text));
  for (const [key, update] of Object.entries(updates)) {
    const literal = JSON.stringify(update);
    if (literal === undefined || (typeof update === 'number' && !Number.isFinite(update)))
      throw new Error(`${file}: ${key} = ${String(update)} has no JSON form`);
    const existing = members.filter((m) => JSON.parse(m.key) === key);
    if (existing.length === 0) members.push({ key: JSON.stringify(key), value: [literal] });
    // A repeated key: JSON readers keep the last one, so every copy gets the new value.
    for (const m of existing) m.value = [literal];
  }
  const tokens: string[] = ['{'];
  members.forEach((m, i) => {
    if (i > 0) tokens.push(',');
    tokens.push(m.key, ':', ...m.value);
  });
  tokens.push('}');
  return `${pretty(tokens)}\n`;
}

interface Member {
  readonly key: string;
  value: string[];
}

const PUNCTUATION = new Set(['{', '}', '[', ']', ':', ',']);

/** The tokens of valid JSON text: punctuation, and every string, number and literal exactly as written. */
function lex(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (PUNCTUATION.has(c)) {
      tokens.push(c);
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !PUNCTUATION.has(text[j]) && !' \t\n\r'.includes(text[j])) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** The members of the top-level object: each key token with the tokens of its value. */
function topLevelMembers(tokens: readonly string[]): Member[] {
  const members: Member[] = [];
  let i = 1; // past '{'
  while (tokens[i] !== '}') {
    const key = tokens[i];
    i += 2; // key and ':'
    const start = i;
    let depth = 0;
    for (; ; i++) {
      const t = tokens[i];
      if (t === '{' || t === '[') depth++;
      else if (t === '}' || t === ']') {
        if (depth === 0) break;
        depth--;
      } else if (t === ',' && depth === 0) break;
    }
    members.push({ key, value: tokens.slice(start, i) });
    if (tokens[i] === ',') i++;
  }
  return members;
}

function pretty(tokens: readonly string[]): string {
  let out = '';
  let depth = 0;
  const newline = (): string => `\n${'  '.repeat(depth)}`;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '{' || t === '[') {
      const close = t === '{' ? '}' : ']';
      if (tokens[i + 1] === close) {
        out += t + close;
        i++;
        continue;
      }
      depth++;
      out += t + newline();
    } else if (t === '}' || t === ']') {
      depth--;
      out += newline() + t;
    } else if (t === ',') {
      out += `,${newline()}`;
    } else if (t === ':') {
      out += ': ';
    } else {
      out += t;
    }
  }
  return out;
}
