import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusStats, findCorpusFiles, readCorpusFile, streamData } from '../../lib/corpus/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

const GOLDEN_CASES = ['a_shipped_scaled', 'b_wordpiece_masking', 'c_pairs_short_ngram3', 'd_long_seq_chunking', 'e_two_processes', 'f_edge_inputs', 'g_shipped_full_length', 'h_few_shards_two_processes', 'i_rounding_ties'];

const caseJson = (name: string): { input_files_sorted: string[] } => JSON.parse(readFileSync(fixture('golden-builder', name, 'case.json'), 'utf8'));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe.skipIf(!hasFixtures)('corpus discovery equals the reference builder (golden-builder case.json)', () => {
  for (const name of GOLDEN_CASES) {
    it(name, async () => {
      const root = fixture('golden-builder', name);
      const files = await findCorpusFiles(join(root, 'corpus'));
      expect(files.map((f) => relative(root, f))).toEqual(caseJson(name).input_files_sorted);
    });
  }
});

describe.skipIf(!hasFixtures)('builder-facing sentences equal what the reference builder tokenized', () => {
  for (const name of ['a_shipped_scaled', 'd_long_seq_chunking', 'f_edge_inputs', 'i_rounding_ties']) {
    it(`${name}: the distinct sentences, in first-occurrence order`, async () => {
      const root = fixture('golden-builder', name);
      const expected = readFileSync(join(root, 'tokenization.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => (JSON.parse(l) as { text: string }).text);
      const seen = new Set<string>();
      const ours: string[] = [];
      for (const file of caseJson(name).input_files_sorted) {
        for await (const batch of readCorpusFile(join(root, file))) {
          for (const { text } of batch.sentences) {
            if (!seen.has(text)) {
              seen.add(text);
              ours.push(text);
            }
          }
        }
      }
      expect(ours).toEqual(expected);
    });
  }
});

describe.skipIf(!hasFixtures)('ko_lm_dataformat archives: exactly what Reader.stream_data() yields', () => {
  const generated = fixture('ko-lm-dataformat', 'generated');
  const expected = (): Record<string, unknown> => JSON.parse(readFileSync(join(generated, 'ko_lm_dataformat_archive.expected_stream_data.json'), 'utf8'));
  const calls: [string, Parameters<typeof streamData>[1]][] = [
    ['stream_data()', {}],
    ['stream_data(get_meta=True)', { getMeta: true }],
    ['stream_data(autojoin_sentences=True)', { autojoinSentences: true }],
    ["stream_data(get_meta=True, autojoin_sentences=True, sent_joiner='\\n')", { getMeta: true, autojoinSentences: true, sentJoiner: '\n' }],
  ];
  for (const [call, options] of calls) {
    it(`archive folder written by ko_lm_dataformat: ${call}`, async () => {
      expect(await collect(streamData(join(generated, 'ko_lm_dataformat_archive'), options))).toEqual(expected()[call]);
    });
  }

  it('archive written by the original lm_dataformat (\\u-escaped JSON), compared with its own Reader (which joins lists with a blank line)', async () => {
    const lm = JSON.parse(readFileSync(join(generated, 'lm_dataformat_archive.expected_stream_data.json'), 'utf8')) as Record<string, unknown>;
    expect(lm.library).toMatch(/^lm_dataformat/);
    const ours = await collect(streamData(join(generated, 'lm_dataformat_archive'), { getMeta: true, autojoinSentences: true, sentJoiner: '\n\n' }));
    expect(ours).toEqual(lm['stream_data(get_meta=True)']);
  });

  it('upstream blns.jsonl.zst.tar (two zstd members)', async () => {
    const assets = fixture('ko-lm-dataformat', 'upstream-test-assets');
    const blns = readFileSync(join(assets, 'blns.txt'), 'utf8');
    const tarExpected = JSON.parse(readFileSync(join(assets, 'blns.jsonl.zst.tar.expected_stream_data.json'), 'utf8'), (_, v) => (v === '<blns.txt contents>' ? blns : v)) as Record<string, unknown>;
    for (const [call, options] of calls.filter(([c]) => c in tarExpected)) {
      expect(await collect(streamData(join(assets, 'blns.jsonl.zst.tar'), options))).toEqual(tarExpected[call]);
    }
  });
});

describe.skipIf(!hasFixtures)('corpus statistics', () => {
  for (const file of ['nsmc_sample.txt', 'nsmc_reviews_bench.txt']) {
    it(`${file}: documents, sentences and bytes equal stats.json`, async () => {
      const stats = JSON.parse(readFileSync(fixture('korean-corpus', 'stats.json'), 'utf8')) as Record<string, { documents: number; sentences: number; bytes: number }>;
      const result = await corpusStats([fixture('korean-corpus', file)]);
      expect(result.totals).toMatchObject({ files: 1, documents: stats[file].documents, sentences: stats[file].sentences, bytes: stats[file].bytes });
    });
  }
});
