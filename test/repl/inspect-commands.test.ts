import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildManifest, buildPretrainingData } from '../../lib/pretraining/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { kbb } from './kbb-process.js';

let dir = '';
let manifest: BuildManifest;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-inspect-'));
  manifest = await buildPretrainingData({
    inputDir: join(projectRoot, 'data', 'sample-corpus'),
    tokenizerDir: join(projectRoot, 'data', 'sample-tokenizer'),
    outputDir: dir,
    maxSeqLength: 64,
    maxPredictionsPerSeq: 10,
    numProcesses: 1,
    doWholeWordMask: true,
    maxNgramSize: 2,
    dupeFactor: 1,
    numShards: 2,
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('kbb tfrecord show and kbb stats', () => {
  it('tfrecord show decodes an example: tokens, and each prediction with its original token and kind', () => {
    const shard = join(dir, manifest.shards[0].file);
    const { status, stdout, stderr } = kbb(['tfrecord', 'show', shard, '--n', '2', '--skip', '1']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^example 1 of pretrain_data\.tfrecord-0-of-2: \d+ tokens \+ \d+ padding, (one|two) segments?, \d+ predictions \(\d+ masked, \d+ kept, \d+ replaced\)$/m,
    );
    expect(stdout).toMatch(/^example 2 of /m);
    expect(stdout).toMatch(/^\[CLS\] .*⟦[^⟧]+⟧.* \[SEP\]$/m);
    expect(stdout).toMatch(/^position +input +original +what$/m);
    expect(stdout).toMatch(/^ +\d+ +\[MASK\] +\S+ +masked$/m);
    const json = kbb(['tfrecord', 'show', shard, '--json']);
    const example = JSON.parse(json.stdout) as { index: number; predictions: { kind: string }[]; tokens: { prediction?: { kind: string } }[] };
    expect(example.index).toBe(0);
    expect(example.tokens.filter((t) => t.prediction).map((t) => t.prediction!.kind)).toEqual(example.predictions.map((p) => p.kind));
  });

  it('stats reports the manifest, and the same numbers when computed from the shards', () => {
    const plain = kbb(['stats', dir]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('statistics from build_manifest.json');
    expect(plain.stdout).toMatch(new RegExp(`^examples +${manifest.statistics.examples}$`, 'm'));
    expect(plain.stdout).toMatch(/^most-masked tokens:$/m);
    const fromManifest = JSON.parse(kbb(['stats', dir, '--json', '--top', '3']).stdout);
    const fromShards = JSON.parse(kbb(['stats', dir, '--json', '--top', '3', '--from_shards']).stdout);
    expect(fromShards.statistics.source).toBe('shards');
    for (const key of ['examples', 'tokensPerExample', 'paddingFraction', 'predictionsPerExample', 'masked', 'kept', 'replaced'])
      expect(fromShards.statistics[key]).toBe(fromManifest.statistics[key]);
    expect(fromShards.mostMasked).toEqual(fromManifest.mostMasked);
    expect(fromManifest.mostMasked).toHaveLength(3);
  });
});
