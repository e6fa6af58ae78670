import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileSystemFor, GCS_SCHEME, isGcsPath } from '../../lib/fs/index.js';
import type { FlagDefinition } from '../registry/command-definition.js';
import { findCommand, type Registry } from '../registry/registry.js';
import { quoteWord, splitLine } from './split-line.js';

/** Words the REPL itself understands besides the registry's commands. */
export const REPL_WORDS = ['exit'] as const;

export interface Completion {
  /** Where the word being completed starts in the line. */
  readonly start: number;
  /** Whole replacements for line[start, cursor), as typed (quoted where needed). */
  readonly candidates: readonly string[];
}

/** Lists a folder for path completion: names, with `/` after folders. */
export type ListDir = (dir: string) => readonly string[];

export const listDirEntries: ListDir = (dir) => {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((e) => {
      let folder = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          folder = statSync(join(dir, e.name)).isDirectory();
        } catch {
          folder = false;
        }
      }
      return folder ? `${e.name}/` : e.name;
    });
  } catch {
    return [];
  }
};

/** Lists a folder of a store that answers asynchronously (Cloud Storage): names, with `/` after folders. */
export type ListStoredDir = (dir: string) => Promise<readonly string[]>;

/**
 * One level of a `gs://` prefix, listed with a `/` delimiter through lib/fs; [] when the listing
 * fails (no credentials, no such bucket): Tab must never print an error.
 */
export const listStoredEntries: ListStoredDir = async (dir) => {
  try {
    return (await fileSystemFor(dir).list(dir)).map((e) => (e.isDirectory ? `${e.name}/` : e.name));
  } catch {
    return [];
  }
};

/** Which names of a folder complete `base`: those it starts, hidden ones only when `base` starts with a dot. */
const matching = (names: readonly string[], base: string): string[] =>
  names.filter((name) => name.startsWith(base) && (base.startsWith('.') || !name.startsWith('.'))).sort();

/**
 * `gs://` paths starting with `partial`, from one delimiter listing of the prefix it is in. With no
 * `/` after the bucket yet there is nothing to list (buckets belong to a project, not a path).
 */
export async function completeStoredPath(partial: string, listDir: ListStoredDir = listStoredEntries): Promise<string[]> {
  const slash = partial.lastIndexOf('/');
  const dirPart = partial.slice(0, slash + 1);
  if (dirPart.length <= GCS_SCHEME.length) return [];
  const base = partial.slice(slash + 1);
  return matching(await listDir(dirPart), base).map((name) => dirPart + name);
}

/** File paths starting with `partial` (relative to `cwd`, `~/` for the home folder). */
export function completePath(partial: string, cwd: string, listDir: ListDir): string[] {
  const slash = partial.lastIndexOf('/');
  const dirPart = slash >= 0 ? partial.slice(0, slash + 1) : '';
  const base = partial.slice(slash + 1);
  const expanded = dirPart.startsWith('~/') ? join(homedir(), dirPart.slice(2)) : dirPart;
  const dir = resolve(cwd, expanded || '.');
  return matching(listDir(dir), base).map((name) => dirPart + name);
}

const flagWords = (flag: FlagDefinition): string[] => (flag.type === 'boolean' && flag.negatable ? [`--no-${flag.name}`] : [`--${flag.name}`]);

/** What the word before the cursor completes to: fixed words, or a path (listed by the caller). */
type CompletionTarget = { readonly start: number; readonly word: string } & (
  | { readonly kind: 'words'; readonly candidates: readonly string[] }
  | { readonly kind: 'path' }
);

export interface CompleteOptions {
  /** The folder relative paths start from (default: the process's). */
  readonly cwd?: string;
  /** Lists a local folder (default: the disk). */
  readonly listDir?: ListDir;
}

export interface CompleteAsyncOptions extends CompleteOptions {
  /** Lists a `gs://` prefix (default: Cloud Storage through lib/fs). */
  readonly listStoredDir?: ListStoredDir;
}

/**
 * Tab completion of the text before the cursor: command names (then subcommand names), flags of
 * the command named, and local file paths where a flag or argument takes one. A `gs://` path needs
 * a listing over the network: `completeAsync` completes those, this gives none.
 */
export function complete(textBeforeCursor: string, registry: Registry, options: CompleteOptions = {}): Completion {
  const target = completionTarget(textBeforeCursor, registry);
  if (target.kind === 'words') return completion(target, target.candidates);
  if (isGcsPath(target.word)) return completion(target, []);
  return completion(target, completePath(target.word, options.cwd ?? process.cwd(), options.listDir ?? listDirEntries));
}

/** `complete`, with `gs://` paths completed from a delimiter listing of their prefix. */
export async function completeAsync(textBeforeCursor: string, registry: Registry, options: CompleteAsyncOptions = {}): Promise<Completion> {
  const target = completionTarget(textBeforeCursor, registry);
  if (target.kind === 'path' && isGcsPath(target.word)) return completion(target, await completeStoredPath(target.word, options.listStoredDir));
  return complete(textBeforeCursor, registry, options);
}

/** The candidates that extend the word, once each, quoted as typed. */
const completion = (target: CompletionTarget, candidates: readonly string[]): Completion => ({
  start: target.start,
  candidates: [...new Set(candidates.filter((c) => c.startsWith(target.word)))].map(quoteWord),
});

function completionTarget(textBeforeCursor: string, registry: Registry): CompletionTarget {
  const { words } = splitLine(textBeforeCursor);
  const endsInWord = words.length > 0 && words.at(-1)!.end === textBeforeCursor.length;
  const current = endsInWord ? words.at(-1)! : { value: '', start: textBeforeCursor.length, end: textBeforeCursor.length };
  const before = (endsInWord ? words.slice(0, -1) : words).map((w) => w.value);
  const at = { start: current.start, word: current.value };
  const result = (candidates: readonly string[]): CompletionTarget => ({ ...at, kind: 'words', candidates });
  const path: CompletionTarget = { ...at, kind: 'path' };

  if (before.length === 0) return result([...new Set([...registry.commands.map((c) => c.path[0]), ...REPL_WORDS])].sort());
  const match = findCommand(registry, before);
  if (!match.command) {
    // A group word so far: its subcommands.
    if (match.group && before.length === 1)
      return result(registry.commands.filter((c) => c.path[0] === match.group!.name && c.path.length > 1).map((c) => c.path[1]));
    return result([]);
  }
  const command = match.command;
  const flags = (command.flags ?? []).filter((f) => !f.hidden);
  const previous = before.at(-1)!;
  const valueFlag =
    previous.startsWith('--') && before.length > match.consumed ? flags.find((f) => `--${f.name}` === previous && f.type !== 'boolean') : undefined;
  if (valueFlag) return valueFlag.type === 'path' ? path : result([]);
  if (current.value.startsWith('-')) {
    const used = new Set(before.slice(match.consumed));
    return result(flags.flatMap(flagWords).filter((w) => !used.has(w)));
  }
  // A positional argument: count the ones before it (flag values are not positionals).
  let index = 0;
  for (let i = match.consumed; i < before.length; i++) {
    const word = before[i];
    if (word.startsWith('--')) {
      const flag = flags.find((f) => `--${f.name}` === word);
      if (flag && flag.type !== 'boolean') i++;
    } else index++;
  }
  const args = command.arguments ?? [];
  const arg = args[Math.min(index, args.length - 1)];
  if (arg && (index < args.length || arg.variadic) && arg.type === 'path') return path;
  if (command.path[0] === 'help')
    return result(
      before.length === 1
        ? registry.commands.map((c) => c.path[0])
        : registry.commands.filter((c) => c.path[0] === before[1] && c.path.length > 1).map((c) => c.path[1]),
    );
  return result([]);
}

/** The longest prefix all candidates share (what Tab inserts when there are several). */
export function commonPrefix(candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  let prefix = candidates[0];
  for (const c of candidates) while (!c.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}
