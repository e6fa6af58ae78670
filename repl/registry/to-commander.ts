import { Command, InvalidArgumentError, Option, type ParseOptionsResult } from 'commander';
import { kbbVersion } from '../../lib/package/index.js';
import type { CommandIo } from '../io/command-io.js';
import type { AnyCommand, FlagDefinition, ValueType } from './command-definition.js';
import { BOOLEAN_FLAGS_NOTE } from './help-text.js';
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

/** absl's `BooleanParser`: the values `--NAME=VALUE` may give a boolean, in any case. */
const TRUE_WORDS = ['true', 't', '1'];
const FALSE_WORDS = ['false', 'f', '0'];

/** `True`, `f`, `0`… → a boolean, as absl reads a boolean flag's value; anything else is a usage error. */
export function parseBoolean(text: string): boolean {
  const word = text.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new InvalidArgumentError(`expected true, t, 1, false, f or 0 (any case), got ${JSON.stringify(text)}`);
}

/**
 * A command's words as commander understands them, with absl's spellings of booleans rewritten:
 * `--NAME=True` → `--NAME`, `--NAME=false` and `--noNAME` → `--no-NAME` (for boolean flags only; a
 * flag's own name wins over `no` + a name, as in absl). Values of other flags and everything after
 * `--` are left alone. A bad value, or a value after `--noNAME`, is an InvalidArgumentError.
 */
export function normalizeBooleanFlags(flags: readonly FlagDefinition[], words: readonly string[]): string[] {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '--') {
      out.push(...words.slice(i));
      break;
    }
    if (!word.startsWith('--')) {
      out.push(word);
      continue;
    }
    const equals = word.indexOf('=');
    const name = equals < 0 ? word.slice(2) : word.slice(2, equals);
    const value = equals < 0 ? undefined : word.slice(equals + 1);
    const flag = byName.get(name);
    if (flag) {
      if (flag.type !== 'boolean') {
        // `--input_dir --nofoo`: the next word is this flag's value, whatever it looks like.
        out.push(word);
        if (value === undefined && i + 1 < words.length) out.push(words[++i]);
      } else if (value === undefined) out.push(word);
      else {
        let on: boolean;
        try {
          on = parseBoolean(value);
        } catch (error) {
          throw new InvalidArgumentError(`option '--${name}' argument '${value}' is invalid. ${(error as Error).message}`);
        }
        out.push(on ? `--${name}` : `--no-${name}`);
      }
      continue;
    }
    const negated = name.startsWith('no-') ? name.slice(3) : name.startsWith('no') ? name.slice(2) : '';
    if (byName.get(negated)?.type === 'boolean') {
      if (value !== undefined) throw new InvalidArgumentError(`option '--${name}' takes no value (write --${negated}=${value})`);
      out.push(`--no-${negated}`);
      continue;
    }
    out.push(word);
  }
  return out;
}

/**
 * The commander options for a flag. A boolean is two: `--NAME` and `--no-NAME` (one of them left
 * out of help), so it can always be turned on and off; its default, if any, sits on `--NAME`.
 */
function toOptions(flag: FlagDefinition): Option[] {
  if (flag.type !== 'boolean') {
    const option = new Option(`--${flag.name} <${flag.value ?? flag.type}>`, flag.description).argParser((text: string) => parseValue(flag.type, text));
    if (flag.default !== undefined) option.default(flag.default);
    if (flag.required) option.makeOptionMandatory();
    if (flag.hidden) option.hideHelp();
    return [option];
  }
  if (flag.default !== undefined && typeof flag.default !== 'boolean')
    throw new Error(`--${flag.name}: a boolean flag's default is true or false, not ${JSON.stringify(flag.default)}`);
  if (flag.negatable && flag.default === false) throw new Error(`--${flag.name}: a negatable flag defaults to true`);
  const on = new Option(`--${flag.name}`, flag.description);
  const off = new Option(`--no-${flag.name}`, flag.description);
  const initial = flag.negatable ? true : flag.default;
  if (initial !== undefined) on.default(initial);
  if (flag.required) on.makeOptionMandatory();
  if (flag.hidden || flag.negatable) on.hideHelp();
  if (flag.hidden || !flag.negatable) off.hideHelp();
  // `--NAME` first: commander gives a lone `--no-NAME` a default of true.
  return [on, off];
}

/** A command's leaf: its words go through normalizeBooleanFlags before commander reads them. */
class DefinedCommand extends Command {
  readonly #flags: readonly FlagDefinition[];

  constructor(definition: AnyCommand) {
    super(definition.path.at(-1));
    this.#flags = definition.flags ?? [];
  }

  override parseOptions(argv: string[]): ParseOptionsResult {
    let words: string[];
    try {
      words = normalizeBooleanFlags(this.#flags, argv);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      // A usage error like commander's own: written out (with the help hint), then thrown as a CommanderError.
      this.error(`error: ${error.message}`, { code: error.code, exitCode: error.exitCode });
    }
    return super.parseOptions(words);
  }
}

/** One commander command for a definition: the parsed flags and arguments go to `run` as one object. */
function toCommand(definition: AnyCommand, options: CommanderOptions): Command {
  const command = new DefinedCommand(definition).description(definition.description);
  for (const arg of definition.arguments ?? []) {
    const name = `${arg.name}${arg.variadic ? '...' : ''}`;
    command.argument(arg.optional ? `[${name}]` : `<${name}>`, arg.description);
  }
  for (const flag of definition.flags ?? []) for (const option of toOptions(flag)) command.addOption(option);
  if ((definition.flags ?? []).some((f) => f.type === 'boolean' && !f.hidden)) command.addHelpText('after', `\n${BOOLEAN_FLAGS_NOTE}`);
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
