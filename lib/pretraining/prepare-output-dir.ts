import pMap from 'p-map';
import { fileSystemFor, METADATA_REQUESTS_IN_FLIGHT } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import { isProcessAlive } from '../fs/process-alive.js';
import { BuildError } from './build-error.js';
import { isBuildOutput, jobManifestFileName, MANIFEST_FILE, parseJobManifestFileName, parseShardFileName } from './build-files.js';

/** An output name without the hidden temporary wrapping (`.NAME.tmp-PID-N` → `NAME`). */
const finalName = (name: string): string => name.replace(/^\./, '').replace(/\.tmp-.*$/, '');

/** The entries of `dir` (local or `gs://`); anything that is not build output is refused, whatever `overwrite` says. */
async function outputEntries(dir: string): Promise<string[]> {
  const entries = await fileSystemFor(dir).list(dir);
  const foreign = entries.filter((e) => e.isDirectory || !isBuildOutput(e.name)).map((e) => e.name);
  if (foreign.length > 0)
    throw new BuildError(
      `${dir}: holds files that are not build output (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); refusing to mix outputs`,
    );
  return entries.map((e) => e.name);
}

async function removeAll(dir: string, names: readonly string[]): Promise<void> {
  const fs = fileSystemFor(dir);
  await pMap(names, (name) => fs.remove(joinPath(dir, name)), { concurrency: METADATA_REQUESTS_IN_FLIGHT });
}

/**
 * A one-machine build: creates the output folder; refuses one that holds anything unless `overwrite`
 * or it holds only an interrupted build (below), then removes only earlier build output.
 */
export async function prepareOutputDir(dir: string, overwrite: boolean): Promise<void> {
  const fs = fileSystemFor(dir);
  const entries = await fs.list(dir);
  if (entries.length > 0 && !overwrite && !isInterruptedBuild(entries))
    throw new BuildError(`${dir}: the output folder is not empty (${entries.length} entries); pass --overwrite to replace earlier output`);
  await removeAll(dir, await outputEntries(dir));
  await fs.mkdir(dir);
}

/**
 * What a one-machine build killed before its manifest leaves (kill -9, a lost machine): shards
 * without `build_manifest.json`, and hidden temporaries whose process is gone. Without a manifest
 * the shards are not output (a finished build writes it last), so running the same command again
 * replaces them without `--overwrite`. Job manifests (a multi-machine build) and temporaries of a
 * live process (a build running now) are not an interrupted build.
 */
function isInterruptedBuild(entries: readonly { readonly name: string; readonly isDirectory: boolean }[]): boolean {
  return entries.every(({ name, isDirectory }) => {
    if (isDirectory || !isBuildOutput(name)) return false;
    const temporary = /\.tmp-(\d+)-\d+$/.exec(name);
    if (temporary) return !isProcessAlive(Number(temporary[1]));
    return parseShardFileName(name) !== undefined;
  });
}

/**
 * One job of a multi-machine build (job `job` of `numJobs`), which shares the folder with the other
 * jobs, running at the same time on other machines: their shards and job manifests are left alone.
 * Its own from an earlier try (a retried task) are removed, its manifest first, so that the folder
 * never claims a job done whose shards are being rewritten. Output of another build (a finished
 * `build_manifest.json`, shards of another shard count, job manifests of another job count) is
 * refused unless `overwrite`, then removed: it belongs to no job of this build.
 */
export async function prepareJobOutputDir(dir: string, overwrite: boolean, job: number, numJobs: number, numShards: number): Promise<void> {
  const fs = fileSystemFor(dir);
  const entries = await outputEntries(dir);
  const stale: string[] = [];
  const own: string[] = [];
  for (const name of entries) {
    const final = finalName(name);
    const shard = parseShardFileName(final);
    const manifest = parseJobManifestFileName(final);
    if (final === MANIFEST_FILE || (shard && shard.of !== numShards) || (manifest && manifest.of !== numJobs)) stale.push(name);
    else if ((shard && shard.index % numJobs === job) || (manifest && manifest.job === job)) own.push(name);
  }
  if (stale.length > 0 && !overwrite)
    throw new BuildError(
      `${dir}: holds output of another build (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}); pass --overwrite to replace it ` +
        '(each job removes only what belongs to no job of this build, and its own earlier output)',
    );
  const ownManifest = jobManifestFileName(job, numJobs);
  await removeAll(
    dir,
    own.filter((name) => name === ownManifest),
  );
  await removeAll(dir, [...stale, ...own.filter((name) => name !== ownManifest)]);
  await fs.mkdir(dir);
}

/** Removes the shards named (and only those): a failed build's or job's, which are not output without a manifest. */
export async function removeShardFiles(dir: string, shards: readonly string[]): Promise<void> {
  const wanted = new Set(shards);
  const entries = await fileSystemFor(dir)
    .list(dir)
    .catch(() => []);
  await removeAll(
    dir,
    entries.filter((e) => !e.isDirectory && wanted.has(e.name)).map((e) => e.name),
  );
}
