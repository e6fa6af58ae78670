import type { CommandIo } from '../io/command-io.js';

/** How a flag's or argument's text becomes a value; `path` is a string that Tab completes as a file path. */
export type ValueType = 'string' | 'path' | 'int' | 'float' | 'boolean';

export interface FlagDefinition {
  /** The flag as typed, without dashes: `input_dir` is `--input_dir` and the key in the parsed arguments. */
  readonly name: string;
  readonly type: ValueType;
  readonly description: string;
  /** Shown in help as `--name <value>` (default: the type). */
  readonly value?: string;
  readonly default?: string | number | boolean;
  readonly required?: boolean;
  /** A boolean that is on unless `--no-NAME` is given. */
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
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandDefinition<any>;

/** Declares a command; `Args` is the object `run` receives (flag and argument names as keys). */
export const defineCommand = <Args>(definition: CommandDefinition<Args>): CommandDefinition<Args> => definition;
