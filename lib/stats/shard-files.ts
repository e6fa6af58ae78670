import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const SHARD = /^pretrain_data\.tfrecord-(\d+)-of-(\d+)$/;

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
