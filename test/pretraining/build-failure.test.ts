import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BuildOptions, buildPretrainingData } from '../../lib/pretraining/index.js';
import { projectRoot } from '../helpers/fixtures.js';

/** A build that fails leaves no partial output; one that was killed is replaced by the same command. */

const dir = mkdtempSync(join(tmpdir(), 'kbb-build-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (outputDir: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
  inputDir: join(projectRoot, 'data', 'sample-corpus'),
  tokenizerDir: join(projectRoot, 'data', 'sample-tokenizer'),
  outputDir,
  maxSeqLength: 64,
  maxPredictionsPerSeq: 10,
  numProcesses: 1,
  numShards: 3,
  dupeFactor: 1,
  ...extra,
});

describe('a failed build-tfrecord leaves no partial output', () => {
  it('a bad tokenizer is refused before the output folder is touched', async () => {
    const tokenizer = join(dir, 'bad-tokenizer');
    cpSync(join(projectRoot, 'data', 'sample-tokenizer'), tokenizer, { recursive: true });
    writeFileSync(join(tokenizer, 'tokenizer_config.json'), '{"do_lower_case": ');
    const out = join(dir, 'out-tokenizer');
    await expect(buildPretrainingData(options(out, { tokenizerDir: tokenizer }))).rejects.toThrow(/tokenizer_config\.json/);
    expect(existsSync(out)).toBe(false);
  });

  it('a corrupt corpus file found mid-way removes every shard written before it', async () => {
    const corpus = join(dir, 'corpus');
    cpSync(join(projectRoot, 'data', 'sample-corpus'), corpus, { recursive: true });
    // Read last (files are sorted), after the good files have filled shards.
    writeFileSync(join(corpus, 'zz-broken.jsonl.zst'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0xff, 0xff, 0xff, 0x01, 0x02]));
    const out = join(dir, 'out-corpus');
    await expect(buildPretrainingData(options(out, { inputDir: corpus }))).rejects.toThrow(/zz-broken\.jsonl\.zst/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('the output of a killed build (shards, no manifest, temporaries of a dead process) is replaced without --overwrite', async () => {
    const out = join(dir, 'out-killed');
    mkdirSync(out);
    writeFileSync(join(out, 'pretrain_data.tfrecord-0-of-3'), 'a whole shard of a killed build');
    writeFileSync(join(out, '.pretrain_data.tfrecord-1-of-3.tmp-2147483646-1'), 'half a shard');
    const manifest = await buildPretrainingData(options(out));
    expect(manifest.totals.shards).toBe(3);
    expect(readdirSync(out).sort()).toEqual([
      'build_manifest.json',
      'pretrain_data.tfrecord-0-of-3',
      'pretrain_data.tfrecord-1-of-3',
      'pretrain_data.tfrecord-2-of-3',
    ]);
  });

  it('a finished build, or a build running now (a temporary of a live process), still needs --overwrite', async () => {
    const out = join(dir, 'out-live');
    mkdirSync(out);
    writeFileSync(join(out, `.pretrain_data.tfrecord-1-of-3.tmp-${process.ppid}-1`), 'being written');
    await expect(buildPretrainingData(options(out))).rejects.toThrow(/not empty .* pass --overwrite/);
    const finished = join(dir, 'out-finished');
    await buildPretrainingData(options(finished));
    await expect(buildPretrainingData(options(finished))).rejects.toThrow(/not empty .* pass --overwrite/);
  });
});
