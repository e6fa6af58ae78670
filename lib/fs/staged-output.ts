import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileSystemFor } from './file-system-for.js';
import { joinPath } from './paths.js';
import { isProcessAlive } from './process-alive.js';

/*
 * A command that writes several files into a folder (export, import-hf) must leave that folder as it
 * was when it fails: no model.safetensors without its config, no checkpoint without its state file.
 * Each single file is already atomic (a temporary name renamed, or an upload finalized whole); this
 * makes the set of them atomic enough. Locally everything is written into a hidden staging folder
 * inside the output folder (same disk, so the final renames are instant) and moved into place only
 * when all of it is complete; a failure removes the staging folder, and the output folder too if the
 * command created it. Cloud Storage has no rename, so there the files go straight to their names and
 * a failure removes those that were not there before the command began.
 */

/** Hidden staging folders are named `.kbb-staging-PID-N`, so the next run can tell a dead run's leftovers. */
const STAGING_PREFIX = '.kbb-staging-';
const STAGING_NAME = /^\.kbb-staging-(\d+)-\d+$/;
let counter = 0;

export interface StagedOutput {
  /** The output folder the files end up in. */
  readonly outputDir: string;
  /** Where to write them now: the staging folder locally, `outputDir` itself on Cloud Storage. */
  readonly dir: string;
  /**
   * Moves the files (relative names, `/`-separated, in the order given: the one that marks the output
   * complete last) from `dir` to `outputDir`, skipping names that were not written; returns the final
   * paths of those moved.
   */
  publish(names: readonly string[]): Promise<string[]>;
  /** Removes what was written (and `outputDir` if this run created it). Safe to call after `publish` (then a no-op) or twice. */
  discard(): Promise<void>;
}

/** Removes staging folders a killed run left in `outputDir` (their process is gone). */
async function removeStaleStaging(outputDir: string): Promise<void> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  for (const name of names) {
    const match = STAGING_NAME.exec(name);
    if (match && !isProcessAlive(Number(match[1]))) await rm(join(outputDir, name), { recursive: true, force: true });
  }
}

/** The topmost folder of `dir`'s ancestry (itself included) that does not exist yet, or undefined when `dir` exists. */
async function firstMissing(dir: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let current = dir; ; current = dirname(current)) {
    if (
      await stat(current).then(
        () => true,
        () => false,
      )
    )
      return missing;
    missing = current;
    if (dirname(current) === current) return missing;
  }
}

/**
 * Starts writing a set of files into `outputDir` (local or `gs://`). `names` are the relative names
 * the command may write, so that on Cloud Storage a failure removes exactly the new ones. Call only
 * once every input is validated: staging creates the output folder.
 */
export async function stageOutput(outputDir: string, names: readonly string[]): Promise<StagedOutput> {
  const fs = fileSystemFor(outputDir);
  // The FileSystem interface has no rename (Cloud Storage has none), so the local case uses node:fs.
  if (fs.kind !== 'local') {
    const before = new Set<string>();
    for (const name of names) if ((await fs.stat(joinPath(outputDir, name))) !== undefined) before.add(name);
    let done = false;
    return {
      outputDir,
      dir: outputDir,
      async publish(published) {
        done = true;
        const paths: string[] = [];
        for (const name of published) if ((await fs.stat(joinPath(outputDir, name))) !== undefined) paths.push(joinPath(outputDir, name));
        return paths;
      },
      async discard() {
        if (done) return;
        done = true;
        for (const name of names) if (!before.has(name)) await fs.remove(joinPath(outputDir, name));
      },
    };
  }

  const created = await firstMissing(outputDir);
  await mkdir(outputDir, { recursive: true });
  await removeStaleStaging(outputDir);
  const dir = join(outputDir, `${STAGING_PREFIX}${process.pid}-${++counter}`);
  await mkdir(dir);
  let done = false;
  return {
    outputDir,
    dir,
    async publish(published) {
      const paths: string[] = [];
      for (const name of published) {
        const from = join(dir, name);
        if (
          !(await stat(from).then(
            (s) => s.isFile(),
            () => false,
          ))
        )
          continue;
        const to = join(outputDir, name);
        await mkdir(dirname(to), { recursive: true });
        await rename(from, to);
        paths.push(to);
      }
      done = true;
      await rm(dir, { recursive: true, force: true });
      return paths;
    },
    async discard() {
      if (done) return;
      done = true;
      await rm(dir, { recursive: true, force: true });
      // Created by this run: remove it again if nothing else has appeared in it meanwhile.
      if (created !== undefined) {
        for (let current = outputDir; ; current = dirname(current)) {
          if (
            !(await rmdir(current).then(
              () => true,
              () => false,
            )) ||
            current === created
          )
            break;
        }
      }
    },
  };
}
