import { CommanderError } from 'commander';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { runLine } from '../../repl/interactive/run-line.js';
import type { CommandIo } from '../../repl/io/command-io.js';
import { defineCommand } from '../../repl/registry/command-definition.js';
import { BOOLEAN_FLAGS_NOTE, commandHelp } from '../../repl/registry/help-text.js';
import type { Registry } from '../../repl/registry/registry.js';
import { normalizeBooleanFlags, parseBoolean, toCommander } from '../../repl/registry/to-commander.js';

/** KoBigBird's run_pretraining.py in miniature: booleans with and without defaults, next to other flags. */
const train = defineCommand({
  path: ['train'],
  description: 'pretrain',
  arguments: [{ name: 'dir', type: 'path', optional: true, description: 'a folder' }],
  flags: [
    { name: 'do_train', type: 'boolean', default: false, description: 'train' },
    { name: 'do_eval', type: 'boolean', default: true, description: 'evaluate' },
    { name: 'use_tpu', type: 'boolean', description: 'on a TPU' },
    { name: 'tokenizer', type: 'boolean', negatable: true, description: 'write no tokenizer files' },
    { name: 'nodes', type: 'boolean', description: 'a boolean whose name starts with no' },
    { name: 'debug', type: 'boolean', hidden: true, description: 'compatibility' },
    { name: 'n', type: 'int', default: 3, description: 'a number' },
    { name: 'name', type: 'string', description: 'a name' },
  ],
  async run(args) {
    seen.push(args);
  },
});

const echo = defineCommand({
  path: ['corpus', 'echo'],
  description: 'print the words',
  arguments: [{ name: 'words', type: 'string', variadic: true, description: 'words' }],
  flags: [{ name: 'upper', type: 'boolean', description: 'in capitals' }],
  async run(args) {
    seen.push(args);
  },
});

const registry: Registry = { groups: [{ name: 'corpus', description: 'corpus things' }], commands: [train, echo] };
let seen: Record<string, unknown>[] = [];

const quietIo: CommandIo = {
  signal: new AbortController().signal,
  columns: 100,
  text: () => {},
  table: () => {},
  json: () => {},
  progress: () => ({ update: () => {}, stop: () => {} }),
};

/** Parses `words` as `kbb WORDS` does; the arguments `run` got, or the usage error commander wrote. */
async function parse(...words: string[]): Promise<Record<string, unknown>> {
  seen = [];
  let err = '';
  const program = toCommander(registry, { io: () => quietIo, output: { writeOut: () => {}, writeErr: (t) => (err += t) } });
  try {
    await program.parseAsync(words, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new Error(err.trim() || error.message);
    throw error;
  }
  expect(seen).toHaveLength(1);
  return seen[0];
}

/** `kbb train --help`, as commander prints it. */
function commanderHelp(...path: string[]): string {
  let out = '';
  const program = toCommander(registry, { io: () => quietIo, output: { writeOut: (t) => (out += t), writeErr: (t) => (out += t) } });
  expect(() => program.parse([...path, '--help'], { from: 'user' })).toThrow(CommanderError);
  return out;
}

describe('absl spellings of boolean flags', () => {
  it('parses values as absl BooleanParser does: true/t/1 and false/f/0, any case, nothing else', () => {
    for (const word of ['true', 'True', 'TRUE', 't', 'T', '1']) expect(parseBoolean(word), word).toBe(true);
    for (const word of ['false', 'False', 'FALSE', 'f', 'F', '0']) expect(parseBoolean(word), word).toBe(false);
    for (const word of ['yes', 'no', 'y', 'n', 'on', 'off', '', ' true', '2', 'maybe'])
      expect(() => parseBoolean(word), word).toThrow(/expected true, t, 1, false/);
  });

  it('defaults: a boolean with a default is always a boolean; one without stays true or undefined', async () => {
    expect(await parse('train')).toEqual({ do_train: false, do_eval: true, tokenizer: true, n: 3 });
    const args = await parse('train', '--use_tpu', '--nodes', '--debug');
    expect(args).toMatchObject({ use_tpu: true, nodes: true, debug: true, do_train: false, do_eval: true, tokenizer: true });
  });

  it('takes every spelling the reference scripts use', async () => {
    expect(await parse('train', '--do_train=True', '--do_eval=False', '--use_tpu=True', '--tokenizer=false')).toMatchObject({
      do_train: true,
      do_eval: false,
      use_tpu: true,
      tokenizer: false,
    });
    for (const value of ['true', 'T', 't', '1', 'TrUe']) expect((await parse('train', `--do_train=${value}`)).do_train, value).toBe(true);
    for (const value of ['false', 'F', 'f', '0', 'fAlSe']) expect((await parse('train', `--do_eval=${value}`)).do_eval, value).toBe(false);
    // --noNAME (absl) and --no-NAME (commander) turn any boolean off, defaulted or not.
    expect(await parse('train', '--nodo_eval', '--nouse_tpu', '--notokenizer')).toMatchObject({ do_eval: false, use_tpu: false, tokenizer: false });
    expect(await parse('train', '--no-do_eval', '--no-use_tpu', '--no-tokenizer')).toMatchObject({ do_eval: false, use_tpu: false, tokenizer: false });
    // --NAME turns on even a flag that defaults to true or is negatable.
    expect(await parse('train', '--do_eval', '--tokenizer', '--do_train')).toMatchObject({ do_eval: true, tokenizer: true, do_train: true });
    // The last spelling wins, as in absl.
    expect((await parse('train', '--do_train', '--nodo_train')).do_train).toBe(false);
    expect((await parse('train', '--nodo_train', '--do_train=1')).do_train).toBe(true);
  });

  it('a flag named no… is itself, and its negation is --nono…', async () => {
    expect((await parse('train', '--nodes')).nodes).toBe(true);
    expect((await parse('train', '--nonodes')).nodes).toBe(false);
    expect((await parse('train', '--nodes=f')).nodes).toBe(false);
    expect((await parse('train', '--debug=0', '--nodebug')).debug).toBe(false);
  });

  it('a bad value is a usage error naming the flag and what it accepts', async () => {
    await expect(parse('train', '--do_train=maybe')).rejects.toThrow(
      `error: option '--do_train' argument 'maybe' is invalid. expected true, t, 1, false, f or 0 (any case), got "maybe"`,
    );
    await expect(parse('train', '--use_tpu=')).rejects.toThrow(/option '--use_tpu' argument '' is invalid/);
    await expect(parse('train', '--tokenizer=yes')).rejects.toThrow(/option '--tokenizer' argument 'yes' is invalid/);
    await expect(parse('train', '--nodo_train=True')).rejects.toThrow("error: option '--nodo_train' takes no value (write --do_train=True)");
    await expect(parse('train', '--no-do_train=0')).rejects.toThrow(/option '--no-do_train' takes no value/);
    // A boolean does not take the next word as its value (absl neither): it is a positional argument.
    expect(await parse('train', '--do_train', 'False')).toMatchObject({ do_train: true, dir: 'False' });
    await expect(parse('train', '--nope=True')).rejects.toThrow(/unknown option '--nope=True'/);
    await expect(parse('train', '--nonope')).rejects.toThrow(/unknown option '--nonope'/);
  });

  it('leaves positional arguments, other flags and their values alone', async () => {
    expect(await parse('train', 'out/dir', '--n=5', '--name=x=True', '--do_train=True')).toMatchObject({
      dir: 'out/dir',
      n: 5,
      name: 'x=True',
      do_train: true,
    });
    expect(await parse('train', '--name', '--nodo_train', '--do_eval=0', 'out')).toMatchObject({
      name: '--nodo_train',
      do_train: false,
      do_eval: false,
      dir: 'out',
    });
    await expect(parse('train', '--n=True')).rejects.toThrow(/option '--n <int>' argument 'True' is invalid. expected an integer/);
    // In a group, between positionals, and after `--` (where words are positionals, not flags).
    expect(await parse('corpus', 'echo', 'a', '--upper=True', 'b')).toEqual({ words: ['a', 'b'], upper: true });
    expect(await parse('corpus', 'echo', '--noupper', 'a')).toEqual({ words: ['a'], upper: false });
    expect(await parse('corpus', 'echo', 'a', '--', '--upper=False', '--noupper')).toEqual({ words: ['a', '--upper=False', '--noupper'] });
  });

  it('rewrites words with a pure function of the flag definitions', () => {
    const flags = train.flags!;
    expect(
      normalizeBooleanFlags(flags, ['--do_train=True', '--do_eval=F', '--notokenizer', '--nodes', '--nonodes', 'x', '--n=2', '--name', '--nouse_tpu']),
    ).toEqual(['--do_train', '--no-do_eval', '--no-tokenizer', '--nodes', '--no-nodes', 'x', '--n=2', '--name', '--nouse_tpu']);
    expect(normalizeBooleanFlags(flags, ['--', '--do_train=True'])).toEqual(['--', '--do_train=True']);
    expect(normalizeBooleanFlags([], ['--do_train=True', '--nofoo'])).toEqual(['--do_train=True', '--nofoo']);
  });

  it('works the same at the kbb> prompt, which parses each line with the same program', async () => {
    seen = [];
    expect(await runLine('train out --do_train=True --nodo_eval --use_tpu=FALSE', { registry, io: quietIo })).toEqual({ kind: 'done' });
    expect(seen[0]).toMatchObject({ dir: 'out', do_train: true, do_eval: false, use_tpu: false });
    const outcome = await runLine('train --do_train=maybe', { registry, io: quietIo });
    expect(outcome).toMatchObject({ kind: 'error' });
    expect(outcome.kind === 'error' && outcome.text).toContain(`option '--do_train' argument 'maybe' is invalid. expected true, t, 1, false, f or 0`);
  });

  it('help shows a boolean default and the --noNAME form', () => {
    const text = commandHelp(train);
    expect(text).toMatch(/--do_train +boolean +false +train/);
    expect(text).toMatch(/--do_eval +boolean +true +evaluate/);
    expect(text).toMatch(/--use_tpu +boolean +on a TPU/);
    expect(text).toMatch(/--no-tokenizer +boolean +on +write no tokenizer files/);
    expect(text).not.toContain('debug');
    expect(text).toContain(BOOLEAN_FLAGS_NOTE);
    expect(BOOLEAN_FLAGS_NOTE).toContain('--noNAME');

    const help = commanderHelp('train');
    expect(help).toMatch(/--do_train +train \(default: false\)/);
    expect(help).toMatch(/--do_eval +evaluate \(default: true\)/);
    expect(help).toMatch(/--use_tpu +on a TPU\n/);
    expect(help).toMatch(/--no-tokenizer +write no tokenizer files\n/);
    // One line per flag: the other half of each boolean pair, and hidden flags, stay out of help.
    expect(help).not.toMatch(/--no-do_train|--no-do_eval|--no-use_tpu|--tokenizer\b|debug/);
    expect(help).toContain(BOOLEAN_FLAGS_NOTE);
    expect(commanderHelp('corpus', 'echo')).toContain(BOOLEAN_FLAGS_NOTE);
  });

  it('types a defaulted or negatable boolean as boolean, and a plain one as possibly undefined', () => {
    type Args = Parameters<typeof train.run>[0];
    expectTypeOf<Args['do_train']>().toEqualTypeOf<boolean>();
    expectTypeOf<Args['do_eval']>().toEqualTypeOf<boolean>();
    expectTypeOf<Args['tokenizer']>().toEqualTypeOf<boolean>();
    expectTypeOf<Args['use_tpu']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<Args['n']>().toEqualTypeOf<number>();
  });

  it('refuses a boolean default that is not a boolean, and a negatable flag that defaults to false', () => {
    const bad = (flag: Record<string, unknown>): Registry => ({
      groups: [],
      commands: [{ path: ['x'], description: 'x', flags: [{ name: 'b', type: 'boolean', description: 'b', ...flag }], run: async () => {} }],
    });
    expect(() => toCommander(bad({ default: 'true' }), { io: () => quietIo })).toThrow(/--b: a boolean flag's default is true or false/);
    expect(() => toCommander(bad({ negatable: true, default: false }), { io: () => quietIo })).toThrow(/--b: a negatable flag defaults to true/);
  });
});
