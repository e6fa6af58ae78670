import { Command, InvalidArgumentError, Option } from 'commander';
import { kbbVersion } from '../../lib/package/index.js';
import type { CommandIo } from '../io/command-io.js';
import type { AnyCommand, FlagDefinition, ValueType } from './command-definition.js';
import type { Registry } from './registry.js';

export const PROGRAM_DESCRIPTION = 'Pretrain BigBird language models the KoBigBird way: corpus → tokenizer → TFRecords → warm start → training → export.';

export interface CommanderOptions {
  /** The io a command's run gets; called once per command run. */
  readonly io: () => CommandIo;
  /** Where commander's own help and error text go (default: stdout and stderr). */
  readonly output?: { readonly writeOut: (text: string) => void; readonly writeErr: (text: string) => void };
  /** After a usage error: true for the full help (the command line), or a short hint (the REPL). */
  readonly helpAfterError?: boolean | string;
}

/** Text → value for a flag or argument of `type`; a bad value is a usage error naming what was expected. */
export function parseValue(type: ValueType, text: string): string | number {
  if (type === 'int') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got ${JSON.stringify(text)}`);
    return n;
  }
  if (type === 'float') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got ${JSON.stringify(text)}`);
    return n;
  }
  return text;
}

function toOption(flag: FlagDefinition): Option {
  const option =
    flag.type === 'boolean'
      ? new Option(flag.negatable ? `--no-${flag.name}` : `--${flag.name}`, flag.description)
      : new Option(`--${flag.name} <${flag.value ?? flag.type}>`, flag.description).argParser((text: string) => parseValue(flag.type, text));
  if (flag.default !== undefined && flag.type !== 'boolean') option.default(flag.default);
  if (flag.required) option.makeOptionMandatory();
  if (flag.hidden) option.hideHelp();
  return option;
}

/** One commander command for a definition: the parsed flags and arguments go to `run` as one object. */
function toCommand(definition: AnyCommand, options: CommanderOptions): Command {
  const command = new Command(definition.path.at(-1)).description(definition.description);
  for (const arg of definition.arguments ?? []) {
    const name = `${arg.name}${arg.variadic ? '...' : ''}`;
    command.argument(arg.optional ? `[${name}]` : `<${name}>`, arg.description);
  }
  for (const flag of definition.flags ?? []) command.addOption(toOption(flag));
  command.action(async (...params: unknown[]) => {
    const self = params.at(-1) as Command;
    const args: Record<string, unknown> = { ...self.opts() };
    (definition.arguments ?? []).forEach((arg, i) => {
      args[arg.name] = self.processedArgs[i];
    });
    await definition.run(args, options.io());
  });
  return command;
}

/** Settings every level needs: commander copies them only to subcommands made with `.command()`. */
function configure(command: Command, options: CommanderOptions): Command {
  command.exitOverride();
  if (options.output) command.configureOutput({ writeOut: options.output.writeOut, writeErr: options.output.writeErr });
  if (options.helpAfterError !== undefined) command.showHelpAfterError(options.helpAfterError);
  return command;
}

/** The `kbb` command line, built from the registry (the REPL builds the same one for each line). */
export function toCommander(registry: Registry, options: CommanderOptions): Command {
  const program = configure(new Command().name('kbb').description(PROGRAM_DESCRIPTION).version(kbbVersion()).helpCommand(false), options);
  const groups = new Map<string, Command>();
  for (const definition of registry.commands) {
    let parent = program;
    if (definition.path.length > 1) {
      const name = definition.path[0];
      let group = groups.get(name);
      if (!group) {
        const description = registry.groups.find((g) => g.name === name)?.description ?? '';
        group = configure(new Command(name).description(description).helpCommand(false), options);
        groups.set(name, group);
        program.addCommand(group);
      }
      parent = group;
    }
    parent.addCommand(configure(toCommand(definition, options), options));
  }
  return program;
}
