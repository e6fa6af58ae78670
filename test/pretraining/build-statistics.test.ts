import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuildManifest,
  buildOutputStatistics,
  buildPretrainingData,
  classifyPrediction,
  decodePretrainingRecord,
  findShards,
  maskingStatisticsFromManifest,
  readPretrainingRecords,
  recordTokens,
  recordVocab,
  scanShards,
} from '../../lib/pretraining/index.js';
import { floatFeature, int64Feature } from '../../lib/tfrecord/index.js';
import { loadTokenizer, type WordPieceTokenizer } from '../../lib/tokenizer/index.js';
import { projectRoot } from '../helpers/fixtures.js';

const SAMPLE_TOKENIZER = join(projectRoot, 'data', 'sample-tokenizer');
let dir = '';
let out = '';
let manifest: BuildManifest;
let tokenizer: WordPieceTokenizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-stats-'));
  out = join(dir, 'build');
  // Whole words in up to 3-grams, two segments sometimes: every statistic has something to count.
  manifest = await buildPretrainingData({
    inputDir: join(projectRoot, 'data', 'sample-corpus'),
    tokenizerDir: SAMPLE_TOKENIZER,
    outputDir: out,
    maxSeqLength: 64,
    maxPredictionsPerSeq: 10,
    numProcesses: 1,
    sentencePairProb: 0.2,
    shortSeqProb: 0.1,
    doWholeWordMask: true,
    maxNgramSize: 3,
    dupeFactor: 2,
    numShards: 3,
  });
  tokenizer = await loadTokenizer(SAMPLE_TOKENIZER);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('decoding pretraining records', () => {
  it('classifies a prediction by what was written: [MASK], the original, or another token', () => {
    expect(classifyPrediction(4, 100, 4)).toBe('masked');
    expect(classifyPrediction(100, 100, 4)).toBe('kept');
    expect(classifyPrediction(7, 100, 4)).toBe('replaced');
  });

  it('finds the padding and leaves out zero-weight prediction slots', () => {
    const example = new Map([
      ['input_ids', int64Feature([2, 4, 50, 51, 3, 0, 0])],
      ['segment_ids', int64Feature([0, 0, 0, 1, 1, 0, 0])],
      ['masked_lm_positions', int64Feature([1, 2, 3, 0])],
      ['masked_lm_ids', int64Feature([60, 50, 70, 0])],
      ['masked_lm_weights', floatFeature([1, 1, 1, 0])],
      ['next_sentence_labels', int64Feature([0])],
    ]);
    const record = decodePretrainingRecord(example, { maskId: 4, padId: 0 });
    expect(record.length).toBe(5);
    expect(record.twoSegments).toBe(true);
    expect(record.predictions.map((p) => [p.position, p.kind])).toEqual([
      [1, 'masked'],
      [2, 'kept'],
      [3, 'replaced'],
    ]);
    const names = ['[PAD]', 'a', '[CLS]', '[SEP]', '[MASK]'];
    names[50] = 'x';
    names[51] = 'y';
    names[60] = 'm';
    names[70] = 'z';
    expect(recordTokens(record, names).map((t) => (t.prediction ? `${t.token}:${t.prediction.original}:${t.prediction.kind}` : t.token))).toEqual([
      '[CLS]',
      '[MASK]:m:masked',
      'x:x:kept',
      'y:z:replaced',
      '[SEP]',
    ]);
  });

  it('over a whole build, the decoded kinds add up to the builder’s own masked/kept/replaced counts', async () => {
    const vocab = recordVocab(tokenizer);
    const counts = { masked: 0, kept: 0, replaced: 0, examples: 0 };
    for (const shard of await findShards(out)) {
      for await (const record of readPretrainingRecords(shard, vocab)) {
        counts.examples++;
        for (const p of record.predictions) {
          counts[p.kind]++;
          // Masked positions show [MASK]; the token before masking is never [MASK] or padding.
          expect(p.originalId).not.toBe(vocab.maskId);
          if (p.kind === 'masked') expect(record.inputIds[p.position]).toBe(vocab.maskId);
        }
      }
    }
    const s = manifest.statistics;
    expect(counts).toEqual({ masked: s.masked, kept: s.kept, replaced: s.replaced, examples: s.examples });
    expect(s.masked * s.kept * s.replaced).toBeGreaterThan(0);
  });

  it('skip and limit pick records by index', async () => {
    const [first] = await findShards(out);
    const picked = [];
    for await (const r of readPretrainingRecords(first, recordVocab(tokenizer), { skip: 2, limit: 2 })) picked.push(r.index);
    expect(picked).toEqual([2, 3]);
  });
});

describe('masking statistics', () => {
  it('from the shards agree with the manifest (spans read from the shards merge where they touch)', async () => {
    const fromManifest = maskingStatisticsFromManifest(manifest);
    const { statistics: fromShards, targetCounts } = await scanShards(await findShards(out), recordVocab(tokenizer));
    const same = [
      'examples',
      'maxSeqLength',
      'tokens',
      'tokensPerExample',
      'paddingFraction',
      'predictions',
      'predictionsPerExample',
      'masked',
      'kept',
      'replaced',
      'twoSegmentExamples',
      'maskedWords',
    ] as const;
    for (const key of same) expect([key, fromShards[key]]).toEqual([key, fromManifest[key]]);
    expect(fromManifest.twoSegmentExamples).toBeGreaterThan(0);
    expect(fromManifest.gramsByLength[3]).toBeGreaterThan(0);
    // Touching spans merge into longer runs: never more runs than spans.
    const total = (grams: readonly number[]): number => grams.reduce((a, b) => a + b, 0);
    expect(total(fromShards.gramsByLength)).toBeLessThanOrEqual(total(fromManifest.gramsByLength));
    expect([...targetCounts.values()].reduce((a, b) => a + b, 0)).toBe(fromManifest.predictions);
  });

  it('buildOutputStatistics: the manifest where there is one, the shards without one, the same numbers', async () => {
    const withManifest = await buildOutputStatistics(out, { top: 5 });
    expect(withManifest.statistics.source).toBe('manifest');
    expect(withManifest.shards).toBe(3);
    expect(withManifest.mostMasked).toHaveLength(5);
    const counts = withManifest.mostMasked.map((t) => t.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(withManifest.mostMasked[0].token).toBe(tokenizer.idToToken[withManifest.mostMasked[0].id]);

    // The shards alone, copied where there is no manifest: the tokenizer must then be named.
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    for (const f of readdirSync(out).filter((f) => f.startsWith('pretrain_data'))) copyFileSync(join(out, f), join(bare, f));
    await expect(buildOutputStatistics(bare)).rejects.toThrow(/no build_manifest\.json naming the tokenizer; pass --tokenizer_dir/);
    const fromShards = await buildOutputStatistics(bare, { tokenizerDir: SAMPLE_TOKENIZER, top: 5 });
    expect(fromShards.statistics.source).toBe('shards');
    expect(fromShards.statistics.masked).toBe(withManifest.statistics.masked);
    expect(fromShards.mostMasked).toEqual(withManifest.mostMasked);
    expect(fromShards.statistics.unmaskableExamples).toBeUndefined();
  });

  it('a folder without shards is an error naming it', async () => {
    await expect(buildOutputStatistics(dir)).rejects.toThrow(`${dir}: no pretrain_data.tfrecord-N-of-M shards found`);
  });
});
