import { readTextFile, writeFileAt } from '../fs/file-system-for.js';
import { isAbsolutePath, joinPath } from '../fs/paths.js';
import { CheckpointError } from './checkpoint-error.js';
import { CHECKPOINT_STATE_FILE } from './checkpoint-files.js';

/** The `checkpoint` file TensorFlow keeps beside its checkpoints (a text-format CheckpointState). */
export interface CheckpointState {
  readonly modelCheckpointPath: string;
  readonly allModelCheckpointPaths: readonly string[];
}

export function parseCheckpointState(text: string, file = CHECKPOINT_STATE_FILE): CheckpointState {
  let model: string | undefined;
  const all: string[] = [];
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^(\w+)\s*:\s*"((?:[^"\\]|\\.)*)"$/.exec(trimmed);
    if (!match) throw new CheckpointError(`${file}:${index + 1}: expected key: "value", got ${JSON.stringify(trimmed)}`);
    const value = unescapeText(match[2]);
    if (match[1] === 'model_checkpoint_path') model = value;
    else if (match[1] === 'all_model_checkpoint_paths') all.push(value);
    // Other fields (timestamps in newer TensorFlow) are not needed to find a checkpoint.
  });
  if (model === undefined) throw new CheckpointError(`${file}: no model_checkpoint_path`);
  return { modelCheckpointPath: model, allModelCheckpointPaths: all };
}

export function formatCheckpointState(state: CheckpointState): string {
  const quote = (s: string): string => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
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
    text = await readTextFile(file);
  } catch (error) {
    throw new CheckpointError(`${file}: cannot read the checkpoint state file (${(error as Error).message})`);
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

function unescapeText(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}
