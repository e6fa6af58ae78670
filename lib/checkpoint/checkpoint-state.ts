import { fileSystemFor, readTextFile, writeFileAt } from '../fs/file-system-for.js';
import { joinInside } from '../fs/path-inside.js';
import { isAbsolutePath, joinPath, parentPath } from '../fs/paths.js';
import { CheckpointError } from './checkpoint-error.js';
import { CHECKPOINT_STATE_FILE } from './checkpoint-files.js';

/** The `checkpoint` file TensorFlow keeps beside its checkpoints (a text-format CheckpointState). */
export interface CheckpointState {
  readonly modelCheckpointPath: string;
  readonly allModelCheckpointPaths: readonly string[];
}

/** A `checkpoint` file is a few lines per checkpoint kept; anything near this is not one. */
export const MAX_CHECKPOINT_STATE_BYTES = 4 << 20;
/** A line holds one path (at most a few KB) and its key. */
const MAX_LINE_CHARS = 64 << 10;

/**
 * Parses the text-format CheckpointState TensorFlow writes: `key: "string"` lines (strings in
 * protobuf's C escaping: `\n`, `\"`, octal `\354` bytes for non-ASCII paths) and `key: number` lines
 * (the timestamps newer TensorFlow adds). Each path is an absolute path (TensorFlow's default; kept)
 * or a name inside the file's folder: a relative one that climbs out with `..`, is empty or holds a
 * control character is refused, since a folder from elsewhere decides what it says. Errors are
 * `CheckpointError`s naming the file and line.
 */
export function parseCheckpointState(text: string, file = CHECKPOINT_STATE_FILE): CheckpointState {
  if (text.length > MAX_CHECKPOINT_STATE_BYTES)
    throw new CheckpointError(`${file}: ${text.length} characters, more than a checkpoint state file holds (at most ${MAX_CHECKPOINT_STATE_BYTES})`, file);
  let model: string | undefined;
  const all: string[] = [];
  const dir = parentPath(file);
  text.split('\n').forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    if (line.length > MAX_LINE_CHARS) throw new CheckpointError(`${where}: a line of ${line.length} characters (at most ${MAX_LINE_CHARS})`, file);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s"']+))$/.exec(trimmed);
    if (!match) throw new CheckpointError(`${where}: expected key: "value" or key: number, got ${JSON.stringify(trimmed.slice(0, 200))}`, file);
    const [, key, doubleQuoted, singleQuoted] = match;
    const quoted = doubleQuoted ?? singleQuoted;
    if (key !== 'model_checkpoint_path' && key !== 'all_model_checkpoint_paths') return; // timestamps and the like: not needed to find a checkpoint
    if (quoted === undefined) throw new CheckpointError(`${where}: ${key} must be a quoted string`, file);
    const value = unescapeText(quoted, where, file);
    if (!isAbsolutePath(value)) {
      try {
        joinInside(dir, value, { file, what: key });
      } catch (error) {
        // Its message starts with the file; this one names the line too.
        throw new CheckpointError(`${where}: ${(error as Error).message.slice(file.length + 2)}`, file, { cause: error });
      }
    }
    if (key === 'model_checkpoint_path') model = value;
    else all.push(value);
  });
  if (model === undefined) throw new CheckpointError(`${file}: no model_checkpoint_path`, file);
  return { modelCheckpointPath: model, allModelCheckpointPaths: all };
}

export function formatCheckpointState(state: CheckpointState): string {
  // Protobuf's C escaping: a control character as its octal byte, so every value stays on its line.
  const quote = (s: string): string =>
    `"${s
      .replaceAll('\\', '\\\\')
      .replaceAll('"', '\\"')
      .replaceAll('\n', '\\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is escaped.
      .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)}"`;
  return `${[
    `model_checkpoint_path: ${quote(state.modelCheckpointPath)}`,
    ...state.allModelCheckpointPaths.map((p) => `all_model_checkpoint_paths: ${quote(p)}`),
  ].join('\n')}\n`;
}

/** The newest checkpoint's prefix in a folder (local or `gs://`), as `tf.train.latest_checkpoint` finds it. */
export async function latestCheckpoint(dir: string): Promise<string> {
  const file = joinPath(dir, CHECKPOINT_STATE_FILE);
  let text: string;
  try {
    const info = await fileSystemFor(file).stat(file);
    if (info !== undefined && info.size > MAX_CHECKPOINT_STATE_BYTES)
      throw new Error(`${info.size} bytes, more than a checkpoint state file holds (at most ${MAX_CHECKPOINT_STATE_BYTES})`);
    text = await readTextFile(file);
  } catch (error) {
    throw new CheckpointError(`${file}: cannot read the checkpoint state file (${(error as Error).message})`, file, { cause: error });
  }
  const { modelCheckpointPath } = parseCheckpointState(text, file);
  return isAbsolutePath(modelCheckpointPath) ? modelCheckpointPath : joinPath(dir, modelCheckpointPath);
}

/**
 * Writes the `checkpoint` file of a folder (local or `gs://`) whole, replacing the old one in one
 * step. It names checkpoints that must already be complete: call it last, after `writeCheckpoint`.
 */
export async function writeCheckpointState(dir: string, state: CheckpointState): Promise<void> {
  await writeFileAt(joinPath(dir, CHECKPOINT_STATE_FILE), formatCheckpointState(state));
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };

/** Protobuf's C unescaping (text_format): the escapes name bytes, which together are the UTF-8 of the path. */
function unescapeText(s: string, where: string, file: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    if (c !== '\\') {
      const next = s.indexOf('\\', i);
      const end = next < 0 ? s.length : next;
      bytes.push(...encoder.encode(s.slice(i, end)));
      i = end;
      continue;
    }
    const e = s[i + 1];
    const octal = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4));
    const hex = /^x([0-9a-fA-F]{1,2})/.exec(s.slice(i + 1, i + 4));
    if (octal && Number.parseInt(octal[0], 8) <= 0xff) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 1 + octal[0].length;
    } else if (hex) {
      bytes.push(Number.parseInt(hex[1], 16));
      i += 1 + hex[0].length;
    } else if (e !== undefined && e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]);
      i += 2;
    } else throw new CheckpointError(`${where}: unknown escape \\${e ?? ''} in a quoted string`, file);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new CheckpointError(`${where}: a quoted string whose escaped bytes are not UTF-8`, file);
  }
}
