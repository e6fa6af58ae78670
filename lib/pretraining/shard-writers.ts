import { joinPath } from '../fs/paths.js';
import { TfRecordWriter } from '../tfrecord/writer.js';
import { shardFileName } from './build-files.js';

/** Shards closed at once: each is an fsync locally, an upload on Cloud Storage. */
const CLOSE_CONCURRENCY = 64;

/** The shards job `job` of `numJobs` owns: every index i with i % numJobs == job, ascending. */
export const ownedShards = (job: number, numJobs: number, numShards: number): number[] =>
  Array.from({ length: numShards }, (_, i) => i).filter((i) => i % numJobs === job);

/**
 * One job's shard files. The k-th example of the job goes to its (k mod owned)-th shard, as in the
 * reference. Files are written under temporary names and renamed on `close()`; shards that got no
 * example still exist afterwards (empty), as the reference leaves them.
 */
export class ShardWriters {
  private readonly writers = new Map<number, TfRecordWriter>();
  private written = 0;
  readonly counts: Map<number, number>;

  constructor(
    private readonly outputDir: string,
    readonly shards: readonly number[],
    private readonly numShards: number,
  ) {
    if (shards.length === 0) throw new Error('a job must own at least one shard');
    this.counts = new Map(shards.map((s) => [s, 0]));
  }

  async write(record: Uint8Array): Promise<number> {
    const shard = this.shards[this.written % this.shards.length];
    this.written++;
    let writer = this.writers.get(shard);
    if (!writer) {
      writer = TfRecordWriter.open(joinPath(this.outputDir, shardFileName(shard, this.numShards)));
      this.writers.set(shard, writer);
    }
    await writer.write(record);
    this.counts.set(shard, this.counts.get(shard)! + 1);
    return shard;
  }

  async close(): Promise<void> {
    for (const shard of this.shards) {
      if (!this.writers.has(shard)) this.writers.set(shard, TfRecordWriter.open(joinPath(this.outputDir, shardFileName(shard, this.numShards))));
    }
    // Each close flushes, fsyncs and renames (or uploads); run them side by side rather than one after
    // another, but not a thousand uploads at once.
    const writers = [...this.writers.values()];
    let next = 0;
    const closeNext = async (): Promise<void> => {
      while (next < writers.length) await writers[next++].close();
    };
    const results = await Promise.allSettled(Array.from({ length: Math.min(CLOSE_CONCURRENCY, writers.length) }, closeNext));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Each shard's size in bytes, once closed. */
  sizes(): Map<number, number> {
    return new Map(this.shards.map((shard) => [shard, this.writers.get(shard)?.bytes ?? 0]));
  }

  async abort(): Promise<void> {
    for (const writer of this.writers.values()) await writer.abort();
  }
}
