import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { isGcsPath, joinGcsPath } from './gcs-path.js';
import { InputError } from './input-error.js';

/*
 * A file kbb reads may name other files (a sharded model's index names its shards, a tokenizer
 * config its files, a tar its members, a manifest its outputs). Such a name comes from whoever made
 * the download, so it must never reach outside the folder it is resolved in: not by `..`, not as an
 * absolute path, not through a symbolic link inside the folder that points elsewhere. Every name
 * read from a file goes through `pathInside` (or `joinInside` before the target exists) before it
 * is opened or written.
 */

/** Where a name read from a file came from, for the error. */
export interface NameSource {
  /** The file the name was read from (the error's `file`); default: the folder. */
  readonly file?: string;
  /** What the name is, for the message: `shard of "bert.x"`, `tar member`, … (default `name`). */
  readonly what?: string;
  /**
   * Other folders a symbolic link may lead into (locally). A Hugging Face hub cache snapshot
   * (`…/snapshots/REV/`) is made of links into its repository's `…/blobs/`, which is where they belong.
   */
  readonly alsoInside?: readonly string[];
}

/** Longest name accepted: a path component is at most 255 bytes on common file systems, a path a few KB. */
const MAX_NAME_LENGTH = 4096;
const MAX_PART_BYTES = 255;

/** Why `name` cannot be a relative file name inside a folder, or undefined when it can. */
function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `is ${name === null ? 'null' : typeof name}, not a string`;
  if (name === '') return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is ${name.length} characters long (at most ${MAX_NAME_LENGTH})`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'holds a control character (NUL, newline, …)';
  // A backslash is a separator on Windows, and `C:` a drive: names written there must not escape either.
  if (name.includes('\\')) return 'holds a backslash (expected "/" as the only separator)';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('://')) return 'is an absolute path';
  const parts = name.split('/');
  if (parts.includes('..')) return 'goes up with ".."';
  const long = parts.find((part) => Buffer.byteLength(part) > MAX_PART_BYTES);
  if (long !== undefined) return `has a part of ${Buffer.byteLength(long)} bytes (at most ${MAX_PART_BYTES} in a file or folder name)`;
  if (parts.every((part) => part === '' || part === '.')) return 'names the folder itself, not a file in it';
  return undefined;
}

/** A `NameSource`, or just what the name is (then the error names the folder as the file). */
export type NameSourceOrWhat = NameSource | string;

function refuse(dir: string, name: unknown, problem: string, sourceOrWhat: NameSourceOrWhat): never {
  const source = typeof sourceOrWhat === 'string' ? { what: sourceOrWhat } : sourceOrWhat;
  const where = source.file ?? dir;
  // Cut short: a hostile name can be megabytes, and the message stays one readable line.
  const shown = JSON.stringify(name) ?? String(name);
  const quoted = shown.length <= 200 ? shown : `${shown.slice(0, 200)}…`;
  throw new InputError(where, `${where}: ${source.what ?? 'name'} ${quoted} ${problem} (expected a relative file name inside ${dir})`);
}

/**
 * `dir` joined with `name`, a file name read from a file, checked without touching the disk: it is a
 * non-empty relative name with `/` separators, no `..`, no control characters. Use it where the
 * target is about to be created; `pathInside` also follows symbolic links and is what readers use.
 */
export function joinInside(dir: string, name: unknown, source: NameSourceOrWhat = {}): string {
  const problem = nameProblem(name);
  if (problem !== undefined) refuse(dir, name, problem, source);
  return isGcsPath(dir) ? joinGcsPath(dir, name as string) : join(dir, name as string);
}

/** The real path of `path`, or of its nearest ancestor that exists joined with the rest (for a file yet to be written). */
async function realPathOrAncestor(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(current.slice(parent.length).replace(/^[/\\]+/, ''));
      current = parent;
    }
  }
}

/**
 * `dir` joined with `name`, a file name read from a file (a shard list, a tar member, a manifest
 * entry, a tokenizer file name), once it is sure to stay inside `dir`: `joinInside`'s checks, and for
 * a local folder also that following every symbolic link on the way (a link inside the folder to a
 * file or folder elsewhere) still ends inside `dir`'s real path. Cloud Storage has no links, so a
 * `gs://` name is checked as text only. Throws an `InputError` naming `source.file`, the name and
 * what was expected (a plain string for `source` is what the name is,
 * and the error then names the folder); the returned path is `dir` joined with `name` (not resolved), for messages.
 */
export async function pathInside(dir: string, name: unknown, source: NameSourceOrWhat = {}): Promise<string> {
  const path = joinInside(dir, name, source);
  if (isGcsPath(dir)) return path;
  let realTarget: string;
  try {
    realTarget = await realPathOrAncestor(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') refuse(dir, name, 'leads into a loop of symbolic links', source);
    if (code === 'ENAMETOOLONG') refuse(dir, name, 'makes a path too long for the file system', source);
    throw error;
  }
  const within = (folder: string, real: string): boolean => {
    const from = relative(folder, real);
    return from !== '' && from !== '..' && !from.startsWith(`..${sep}`) && !isAbsolute(from);
  };
  const realDir = await realPathOrAncestor(dir);
  if (realTarget === realDir) refuse(dir, name, 'leads to the folder itself through a symbolic link', source);
  if (within(realDir, realTarget)) return path;
  const also = typeof source === 'string' ? [] : (source.alsoInside ?? []);
  for (const folder of also) if (within(await realPathOrAncestor(folder), realTarget)) return path;
  refuse(dir, name, `leads to ${realTarget} through a symbolic link, outside the folder`, source);
}
