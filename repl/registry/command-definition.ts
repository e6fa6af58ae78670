import type { CommandIo } from '../io/command-io.js';

/** How a flag's or argument's text becomes a value; `path` is a string that Tab completes as a file path. */
export type ValueType = 'string' | 'path' | 'int' | 'float' | 'boolean';

/**
 * One `--NAME` flag. A boolean also takes absl's spellings, as KoBigBird's scripts write them:
 * `--NAME=true`, `--NAME=False` (true/t/1, false/f/0, any case), `--noNAME` and `--no-NAME`.
 */
export interface FlagDefinition {
  /** The flag as typed, without dashes: `input_dir` is `--input_dir` and the key in the parsed arguments. */
  readonly name: string;
  readonly type: ValueType;
  readonly description: string;
  /** Shown in help as `--name <value>` (default: the type). */
  readonly value?: string;
  /**
   * The value when the flag is not given. For a boolean, `true` or `false` (then the parsed value is
   * always a boolean; without one it is `true` when given, `false` when turned off, else `undefined`).
   */
  readonly default?: string | number | boolean;
  readonly required?: boolean;
  /**
   * A boolean that is on unless `--no-NAME` is given: `default: true`, but shown in help as
   * `--no-NAME` (so its description says what turning it off does).
   */
  readonly negatable?: boolean;
  /** Accepted but left out of help (compatibility with the reference scripts). */
  readonly hidden?: boolean;
}

export interface ArgumentDefinition {
  /** The key in the parsed arguments. */
  readonly name: string;
  readonly type: 'string' | 'path';
  readonly description: string;
  readonly optional?: boolean;
  /** Takes every remaining word (as a string array). */
  readonly variadic?: boolean;
}

/**
 * One command, described once: the command line and the REPL both build their parsers, help and
 * Tab completion from this. `run` only calls `lib/` and reports through `io`.
 */
export interface CommandDefinition<Args = Record<string, unknown>> {
  /** Words that name it: `['tokenize']`, `['corpus', 'stats']`. */
  readonly path: readonly string[];
  readonly description: string;
  readonly arguments?: readonly ArgumentDefinition[];
  readonly flags?: readonly FlagDefinition[];
  run(args: Args, io: CommandIo): Promise<void>;
}

/** A word that only groups commands (`corpus`, `ckpt`, `tfrecord`). */
export interface CommandGroup {
  readonly name: string;
  readonly description: string;
}

/** A command with its arguments' type erased, as the registry holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds commands of every argument type.
export type AnyCommand = CommandDefinition<any>;

type ValueOf<T extends ValueType> = T extends 'int' | 'float' ? number : T extends 'boolean' ? boolean : string;

/** A flag's parsed value: always there when required, defaulted or negatable; else possibly undefined. */
type FlagValue<F extends FlagDefinition> = F extends
  | { readonly required: true }
  | { readonly default: string | number | boolean }
  | { readonly negatable: true }
  ? ValueOf<F['type']>
  : ValueOf<F['type']> | undefined;

type ArgumentValue<A extends ArgumentDefinition> = A extends { readonly variadic: true }
  ? A extends { readonly optional: true }
    ? string[] | undefined
    : string[]
  : A extends { readonly optional: true }
    ? string | undefined
    : string;

/** The object `run` receives for these flags and arguments, derived from their definitions. */
export type ParsedArgs<Flags extends readonly FlagDefinition[], Args extends readonly ArgumentDefinition[]> = {
  readonly [F in Flags[number] as F['name']]: FlagValue<F>;
} & { readonly [A in Args[number] as A['name']]: ArgumentValue<A> };

/**
 * Declares a command. The object `run` receives is typed from the flag and argument definitions
 * themselves (their names, types, defaults), so the two cannot disagree.
 */
export function defineCommand<const Flags extends readonly FlagDefinition[] = readonly [], const Args extends readonly ArgumentDefinition[] = readonly []>(
  definition: Omit<CommandDefinition<ParsedArgs<Flags, Args>>, 'flags' | 'arguments'> & { readonly flags?: Flags; readonly arguments?: Args },
): CommandDefinition<ParsedArgs<Flags, Args>> {
  return definition;
}
