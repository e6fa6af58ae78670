import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The manifest a build writes beside its shards: flags, tokenizer, inputs, shards, statistics. */
export const MANIFEST_FILE = 'build_manifest.json';

/** Shard `index` of `numShards`, named as the reference names them. */
export const shardFileName = (index: number, numShards: number): string => `pretrain_data.tfrecord-${index}-of-${numShards}`;

const SHARD = /^pretrain_data\.tfrecord-(\d+)-of-(\d+)$/;

/** What a build may leave in its folder, finished or not: shards, the manifest, and their hidden temporary files. */
export const isBuildOutput = (name: string): boolean => /^\.?(pretrain_data\.tfrecord-\d+-of-\d+|build_manifest\.json)(\.tmp-.*)?$/.test(name);

/** The builder's shards in a folder, by shard index (temporary `.…tmp-…` files are not shards). */
export async function findShards(dir: string): Promise<string[]> {
  const entries = await readdir(dir);
  const shards = entries.flatMap((name) => {
    const match = SHARD.exec(name);
    return match ? [{ name, index: Number(match[1]) }] : [];
  });
  if (shards.length === 0) throw new Error(`${dir}: no pretrain_data.tfrecord-N-of-M shards found`);
  return shards.sort((a, b) => a.index - b.index).map((s) => join(dir, s.name));
}
