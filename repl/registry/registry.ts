import type { AnyCommand, CommandGroup } from './command-definition.js';

/** Every command kbb has, and the words that group them. */
export interface Registry {
  readonly groups: readonly CommandGroup[];
  readonly commands: readonly AnyCommand[];
}

export interface CommandMatch {
  /** The command the words name, if any. */
  readonly command?: AnyCommand;
  /** A group the words name (alone, or followed by an unknown subcommand). */
  readonly group?: CommandGroup;
  /** How many leading words named the command or group. */
  readonly consumed: number;
}

/** The command named by the leading words (`corpus stats DIR` → `corpus stats`, 2 words). */
export function findCommand(registry: Registry, words: readonly string[]): CommandMatch {
  let best: AnyCommand | undefined;
  for (const command of registry.commands) {
    const { path } = command;
    if (path.length <= words.length && path.every((w, i) => words[i] === w) && path.length > (best?.path.length ?? 0)) best = command;
  }
  if (best) return { command: best, consumed: best.path.length };
  const group = registry.groups.find((g) => g.name === words[0]);
  return group ? { group, consumed: 1 } : { consumed: 0 };
}

/** Full command names, `corpus stats` style, in registry order. */
export const commandNames = (registry: Registry): string[] => registry.commands.map((c) => c.path.join(' '));
