import { table } from '../format.js';
import type { AnyCommand, ArgumentDefinition, FlagDefinition } from './command-definition.js';
import { findCommand, type Registry } from './registry.js';

/** Under a command's flags when it has a boolean: absl's other spellings, which kbb accepts too. */
export const BOOLEAN_FLAGS_NOTE = 'Booleans also take --NAME=true|false (t/f, 1/0, any case) and --noNAME, as in absl.';

export const flagSyntax = (flag: FlagDefinition): string => {
  if (flag.type === 'boolean') return flag.negatable ? `--no-${flag.name}` : `--${flag.name}`;
  return `--${flag.name} <${flag.value ?? flag.type}>`;
};

const argumentSyntax = (arg: ArgumentDefinition): string => {
  const name = `${arg.name}${arg.variadic ? '...' : ''}`;
  return arg.optional ? `[${name}]` : `<${name}>`;
};

/** `build-tfrecord --input_dir <dir> … [flags]` */
export function usage(command: AnyCommand): string {
  const required = (command.flags ?? []).filter((f) => f.required).map(flagSyntax);
  const optional = (command.flags ?? []).some((f) => !f.required && !f.hidden) ? ['[flags]'] : [];
  return [...command.path, ...(command.arguments ?? []).map(argumentSyntax), ...required, ...optional].join(' ');
}

/** One command: usage, arguments, and every visible flag with its type and default. */
export function commandHelp(command: AnyCommand): string {
  const lines = [`${command.path.join(' ')}: ${command.description}`, '', `usage: ${usage(command)}`];
  const args = command.arguments ?? [];
  if (args.length > 0)
    lines.push(
      '',
      table(
        ['argument', 'description'],
        args.map((a) => [argumentSyntax(a), a.description]),
      ),
    );
  const flags = (command.flags ?? []).filter((f) => !f.hidden);
  if (flags.length > 0) {
    const value = (f: FlagDefinition): string => (f.required ? 'required' : f.negatable ? 'on' : f.default === undefined ? '' : String(f.default));
    lines.push(
      '',
      table(
        ['flag', 'type', 'default', 'description'],
        flags.map((f) => [flagSyntax(f), f.type, value(f), f.description]),
      ),
    );
    if (flags.some((f) => f.type === 'boolean')) lines.push('', BOOLEAN_FLAGS_NOTE);
  }
  return lines.join('\n');
}

/** Every command with its description, groups spelled out (`corpus stats`). */
export function overviewHelp(registry: Registry): string {
  return [
    'commands:',
    table(
      ['command', 'description'],
      registry.commands.map((c) => [c.path.join(' '), c.description]),
    )
      .split('\n')
      .slice(1)
      .map((l) => `  ${l}`)
      .join('\n'),
    '',
    'help COMMAND shows its flags. At the kbb> prompt: Tab completes, ↑/↓ walk the history, Ctrl-C cancels a running command, exit or Ctrl-D leaves.',
  ].join('\n');
}

/** `help`, `help tokenize`, `help corpus` (the group's commands); an unknown name is an error. */
export function helpText(registry: Registry, words: readonly string[]): string {
  if (words.length === 0) return overviewHelp(registry);
  const match = findCommand(registry, words);
  if (match.command && match.consumed === words.length) return commandHelp(match.command);
  if (match.group && words.length === 1) {
    const members = registry.commands.filter((c) => c.path[0] === match.group!.name);
    return [`${match.group.name}: ${match.group.description}`, '', ...members.map((c) => `  ${usage(c)}\n      ${c.description}`)].join('\n');
  }
  throw new Error(`help: unknown command '${words.join(' ')}' (help lists them)`);
}
