import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
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

/** File paths starting with `partial` (relative to `cwd`, `~/` for the home folder). */
export function completePath(partial: string, cwd: string, listDir: ListDir): string[] {
  const slash = partial.lastIndexOf('/');
  const dirPart = slash >= 0 ? partial.slice(0, slash + 1) : '';
  const base = partial.slice(slash + 1);
  const expanded = dirPart.startsWith('~/') ? join(homedir(), dirPart.slice(2)) : dirPart;
  const dir = resolve(cwd, expanded || '.');
  return listDir(dir)
    .filter((name) => name.startsWith(base) && (base.startsWith('.') || !name.startsWith('.')))
    .sort()
    .map((name) => dirPart + name);
}

const flagWords = (flag: FlagDefinition): string[] => (flag.type === 'boolean' && flag.negatable ? [`--no-${flag.name}`] : [`--${flag.name}`]);

/**
 * Tab completion of the text before the cursor: command names (then subcommand names), flags of
 * the command named, and file paths where a flag or argument takes one.
 */
export function complete(textBeforeCursor: string, registry: Registry, options: { readonly cwd?: string; readonly listDir?: ListDir } = {}): Completion {
  const cwd = options.cwd ?? process.cwd();
  const listDir = options.listDir ?? listDirEntries;
  const { words } = splitLine(textBeforeCursor);
  const endsInWord = words.length > 0 && words.at(-1)!.end === textBeforeCursor.length;
  const current = endsInWord ? words.at(-1)! : { value: '', start: textBeforeCursor.length, end: textBeforeCursor.length };
  const before = (endsInWord ? words.slice(0, -1) : words).map((w) => w.value);
  const result = (candidates: readonly string[], quote = true): Completion => ({
    start: current.start,
    candidates: [...new Set(candidates.filter((c) => c.startsWith(current.value)))].map((c) => (quote ? quoteWord(c) : c)),
  });

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
  if (valueFlag) return valueFlag.type === 'path' ? result(completePath(current.value, cwd, listDir)) : result([]);
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
  if (arg && (index < args.length || arg.variadic) && arg.type === 'path') return result(completePath(current.value, cwd, listDir));
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
