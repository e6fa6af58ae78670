import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TfRecordWriter } from '../../lib/tfrecord/index.js';

describe('spool files of shards bound for a bucket', () => {
  it('those a killed process left behind are removed by the next writer, those of live processes kept', async () => {
    // A process that has exited: its pid names no one (the kernel does not reuse it this soon).
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    const orphan = join(tmpdir(), `.kbb-spool-${deadPid}-7-pretrain_data.tfrecord-3-of-8`);
    const living = join(tmpdir(), `.kbb-spool-${process.ppid}-7-pretrain_data.tfrecord-4-of-8`);
    writeFileSync(orphan, 'left by kill -9');
    writeFileSync(living, 'still being written');
    try {
      // Opening a writer for a gs:// path contacts no server; the sweep runs in the background.
      const writer = TfRecordWriter.open('gs://kbb-sweep-test/data/pretrain_data.tfrecord-0-of-8');
      const deadline = Date.now() + 10_000;
      while (existsSync(orphan) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(living)).toBe(true);
      await writer.abort();
    } finally {
      rmSync(orphan, { force: true });
      rmSync(living, { force: true });
    }
  });
});
