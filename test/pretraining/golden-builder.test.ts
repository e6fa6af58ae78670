import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCorpusFiles } from '../../lib/corpus/index.js';
import { runJob } from '../../lib/pretraining/run-job.js';
import { decodeExample, readTfRecords } from '../../lib/tfrecord/index.js';
import { loadTokenizer } from '../../lib/tokenizer/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

interface GoldenExample {
  shard: number;
  index_in_shard: number;
  features: Record<string, number[]>;
}

/** The reference's argparse flags from a case's argv, with its defaults. */
function flags(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 2; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (name === 'do_whole_word_mask' || name === 'debug') out[name] = true;
    else out[name] = argv[++i];
  }
  return out;
}

const CASES = [
  'a_shipped_scaled',
  'b_wordpiece_masking',
  'c_pairs_short_ngram3',
  'd_long_seq_chunking',
  'e_two_processes',
  'f_edge_inputs',
  'g_shipped_full_length',
  'h_few_shards_two_processes',
  'i_rounding_ties',
];

describe.skipIf(!hasFixtures)('the pretraining-data builder reproduces the original script, example for example', () => {
  for (const name of CASES) {
    it(name, async () => {
      const root = fixture('golden-builder', name);
      const caseJson = JSON.parse(readFileSync(join(root, 'case.json'), 'utf8')) as { argv: string[]; num_out_files: number; examples_total: number };
      const f = flags(caseJson.argv);
      const num = (key: string, fallback: number): number => (f[key] === undefined ? fallback : Number(f[key]));
      const tokenizer = await loadTokenizer(fixture('kobigbird-tokenizer'));
      const files = await findCorpusFiles(join(root, 'corpus'));
      const out = await mkdtemp(join(tmpdir(), `kbb-golden-${name}-`));
      try {
        const numJobs = num('num_processes', 0);
        for (let job = 0; job < numJobs; job++) {
          await runJob(tokenizer, {
            files,
            job,
            numJobs,
            seed: num('seed', 12345),
            dupeFactor: num('dupe_factor', 2),
            numShards: caseJson.num_out_files,
            outputDir: out,
            config: {
              maxSeqLength: num('max_seq_length', 512),
              maxPredictionsPerSeq: num('max_predictions_per_seq', 76),
              maskedLmProb: num('masked_lm_prob', 0.15),
              sentencePairProb: num('sentence_pair_prob', 0.05),
              shortSeqProb: num('short_seq_prob', 0.01),
              longSeqThreshold: num('long_seq_threshold', 1.8),
              doWholeWordMask: f.do_whole_word_mask === true,
              maxNgramSize: num('max_ngram_size', 1),
            },
          });
        }
        expect(readdirSync(out).sort()).toEqual(
          Array.from({ length: caseJson.num_out_files }, (_, i) => `pretrain_data.tfrecord-${i}-of-${caseJson.num_out_files}`).sort(),
        );
        const golden = readFileSync(join(root, 'examples.jsonl'), 'utf8')
          .split('\n')
          .filter((l) => l.length > 0)
          .map((l) => JSON.parse(l) as GoldenExample);
        expect(golden.length).toBe(caseJson.examples_total);
        const ours: GoldenExample[] = [];
        for (let shard = 0; shard < caseJson.num_out_files; shard++) {
          let index = 0;
          for await (const record of readTfRecords(join(out, `pretrain_data.tfrecord-${shard}-of-${caseJson.num_out_files}`))) {
            const example = decodeExample(record.data);
            const features = Object.fromEntries([...example].map(([k, v]) => [k, Array.from((v as unknown as { value: ArrayLike<number> }).value, Number)]));
            ours.push({ shard, index_in_shard: index++, features });
          }
        }
        expect(ours.length).toBe(golden.length);
        ours.forEach((example, i) => {
          const expected = golden[i];
          expect([example.shard, example.index_in_shard]).toEqual([expected.shard, expected.index_in_shard]);
          for (const key of Object.keys(expected.features))
            expect(example.features[key], `${name} example ${i} (shard ${expected.shard} #${expected.index_in_shard}) ${key}`).toEqual(expected.features[key]);
        });
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });
  }
});
