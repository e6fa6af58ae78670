import { fileSystemFor } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';

/** The manifest a build writes beside its shards: flags, tokenizer, inputs, shards, statistics. */
export const MANIFEST_FILE = 'build_manifest.json';

/** Shard `index` of `numShards`, named as the reference names them. */
export const shardFileName = (index: number, numShards: number): string => `pretrain_data.tfrecord-${index}-of-${numShards}`;

/**
 * The manifest job `job` of `numJobs` writes when it runs on a machine of its own (`--job_index`);
 * `kbb build-tfrecord --finish` merges them into `build_manifest.json`.
 */
export const jobManifestFileName = (job: number, numJobs: number): string => `build_manifest-job-${job}-of-${numJobs}.json`;

const SHARD = /^pretrain_data\.tfrecord-(\d+)-of-(\d+)$/;
const JOB_MANIFEST = /^build_manifest-job-(\d+)-of-(\d+)\.json$/;

/** A shard's index and shard count from its name; undefined for any other name. */
export function parseShardFileName(name: string): { readonly index: number; readonly of: number } | undefined {
  const match = SHARD.exec(name);
  return match ? { index: Number(match[1]), of: Number(match[2]) } : undefined;
}

/** A job manifest's job and job count from its name; undefined for any other name. */
export function parseJobManifestFileName(name: string): { readonly job: number; readonly of: number } | undefined {
  const match = JOB_MANIFEST.exec(name);
  return match ? { job: Number(match[1]), of: Number(match[2]) } : undefined;
}

/** What a build may leave in its folder, finished or not: shards, the manifests, and their hidden temporary files. */
export const isBuildOutput = (name: string): boolean =>
  /^\.?(pretrain_data\.tfrecord-\d+-of-\d+|build_manifest\.json|build_manifest-job-\d+-of-\d+\.json)(\.tmp-.*)?$/.test(name);

/** The builder's shards in a folder (local or `gs://`), by shard index (temporary `.…tmp-…` files are not shards). */
export async function findShards(dir: string): Promise<string[]> {
  const fs = fileSystemFor(dir);
  const entries = await fs.list(dir);
  if (entries.length === 0 && !(await fs.stat(dir))) throw new Error(`${dir}: no such folder`);
  const shards = entries.flatMap((entry) => {
    const shard = entry.isDirectory ? undefined : parseShardFileName(entry.name);
    return shard ? [{ name: entry.name, index: shard.index }] : [];
  });
  if (shards.length === 0) throw new Error(`${dir}: no pretrain_data.tfrecord-N-of-M shards found`);
  return shards.sort((a, b) => a.index - b.index).map((s) => joinPath(dir, s.name));
}
