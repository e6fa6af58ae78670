import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../repl/cli.js';
import { registry } from '../../repl/registry/commands.js';
import { commandHelp, helpText } from '../../repl/registry/help-text.js';
import { findCommand } from '../../repl/registry/registry.js';
import { parseValue } from '../../repl/registry/to-commander.js';

const commanderCommand = (program: Command, path: readonly string[]): Command => {
  let command = program;
  for (const word of path) command = command.commands.find((c) => c.name() === word)!;
  return command;
};

describe('the command registry', () => {
  it('defines every command once, with unique flag and argument names', () => {
    const names = registry.commands.map((c) => c.path.join(' '));
    expect(new Set(names).size).toBe(names.length);
    for (const name of [
      'tokenize',
      'corpus stats',
      'build-tfrecord',
      'tfrecord show',
      'stats',
      'help',
      'ckpt ls',
      'ckpt diff',
      'warm-start',
      'export',
      'import-hf',
      'demo',
      'vocab',
    ])
      expect(names).toContain(name);
    for (const command of registry.commands) {
      const keys = [...(command.flags ?? []), ...(command.arguments ?? [])].map((f) => f.name);
      expect(new Set(keys).size, command.path.join(' ')).toBe(keys.length);
      if (command.path.length > 1) expect(registry.groups.map((g) => g.name)).toContain(command.path[0]);
    }
  });

  it('the command line is built from the definitions: same flags, defaults, required flags and arguments', () => {
    const program = buildProgram();
    for (const definition of registry.commands) {
      const command = commanderCommand(program, definition.path);
      expect(command, definition.path.join(' ')).toBeDefined();
      expect(command.description()).toBe(definition.description);
      expect(command.registeredArguments.map((a) => a.name())).toEqual((definition.arguments ?? []).map((a) => a.name));
      // A boolean is two options, --NAME (with the default) and --no-NAME, of which help shows one.
      const options = new Map<string, Option[]>();
      for (const o of command.options) options.set(o.attributeName(), [...(options.get(o.attributeName()) ?? []), o]);
      for (const flag of definition.flags ?? []) {
        const [option, ...rest] = options.get(flag.name) ?? [];
        expect(option, `${definition.path.join(' ')} --${flag.name}`).toBeDefined();
        expect(option.mandatory).toBe(flag.required ?? false);
        if (flag.type !== 'boolean') {
          expect(option.defaultValue).toEqual(flag.default);
          expect(rest).toEqual([]);
          expect(option.hidden).toBe(flag.hidden ?? false);
        } else {
          expect([option, ...rest].map((o) => o.long)).toEqual([`--${flag.name}`, `--no-${flag.name}`]);
          expect(option.defaultValue).toEqual(flag.negatable ? true : flag.default);
          const shown = [option, ...rest].filter((o) => !o.hidden).map((o) => o.long);
          expect(shown).toEqual(flag.hidden ? [] : [flag.negatable ? `--no-${flag.name}` : `--${flag.name}`]);
        }
      }
      expect(options.size).toBe((definition.flags ?? []).length);
    }
  });

  it('help is generated from the same definitions', () => {
    const build = findCommand(registry, ['build-tfrecord']).command!;
    const text = commandHelp(build);
    expect(text).toContain('usage: build-tfrecord --output_dir <dir> [flags]');
    expect(text).toMatch(/--max_seq_length <n> +int +512 +tokens per example/);
    expect(text).not.toContain('--debug');
    expect(helpText(registry, [])).toMatch(/tfrecord show +decode pretraining examples/);
    expect(helpText(registry, ['corpus'])).toContain('corpus stats <dir> [flags]');
    expect(helpText(registry, ['tfrecord', 'show'])).toContain('usage: tfrecord show <file> [flags]');
    expect(() => helpText(registry, ['nope'])).toThrow("help: unknown command 'nope'");
  });

  it('finds a command by its leading words and parses typed values strictly', () => {
    expect(findCommand(registry, ['corpus', 'stats', 'dir']).consumed).toBe(2);
    expect(findCommand(registry, ['corpus']).group?.name).toBe('corpus');
    expect(findCommand(registry, ['nope'])).toEqual({ consumed: 0 });
    expect(parseValue('int', '12')).toBe(12);
    expect(() => parseValue('int', '1.5')).toThrow(/expected an integer/);
    expect(() => parseValue('float', 'abc')).toThrow(/expected a number/);
    expect(parseValue('float', '0.15')).toBe(0.15);
  });
});
