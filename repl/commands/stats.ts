import { buildOutputStatistics, MANIFEST_FILE, type MaskingStatistics, STATISTICS_DEFAULTS } from '../../lib/pretraining/index.js';
import { table } from '../format.js';
import { deferredProgress } from '../io/deferred-progress.js';
import { defineCommand } from '../registry/command-definition.js';

const percent = (part: number, whole: number): string => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '–');

/** The statistics as a two-column table, then grams by length. */
export function describeStatistics(s: MaskingStatistics): string {
  const rows: [string, string][] = [
    ['examples', s.examples.toLocaleString('en-US')],
    ['tokens per example', `${s.tokensPerExample.toFixed(1)} of ${s.maxSeqLength}`],
    ['padding', percent(s.paddingFraction, 1)],
    ['two-segment examples', `${s.twoSegmentExamples.toLocaleString('en-US')} (${percent(s.twoSegmentExamples, s.examples)})`],
    ['predictions', s.predictions.toLocaleString('en-US')],
    ['predictions per example', s.predictionsPerExample.toFixed(2)],
    ['masked ([MASK])', `${s.masked.toLocaleString('en-US')} (${percent(s.masked, s.predictions)})`],
    ['kept', `${s.kept.toLocaleString('en-US')} (${percent(s.kept, s.predictions)})`],
    ['replaced (random)', `${s.replaced.toLocaleString('en-US')} (${percent(s.replaced, s.predictions)})`],
  ];
  if (s.unmaskableExamples !== undefined) rows.push(['skipped unmaskable', s.unmaskableExamples.toLocaleString('en-US')]);
  const spans = s.gramsByLength
    .map(
      (count, size) =>
        [
          size,
          count,
          percent(
            count,
            s.gramsByLength.reduce((a, b) => a + b, 0),
          ),
        ] as [number, number, string],
    )
    .filter(([size]) => size > 0);
  return [
    `statistics from ${s.source === 'manifest' ? MANIFEST_FILE : 'the shards'}`,
    table(['', ''], rows).split('\n').slice(1).join('\n'),
    '',
    s.gramsCount === 'spans' ? 'masked spans by whole words:' : 'masked runs by whole words (the shards do not record spans: touching spans read as one run):',
    table(['words', s.gramsCount, 'share'], spans),
  ].join('\n');
}

export const statsCommand = defineCommand({
  path: ['stats'],
  description: 'masking statistics of a build-tfrecord output folder: from build_manifest.json, or computed from the shards when there is none',
  arguments: [{ name: 'output_dir', type: 'path', description: 'the build output folder (local or gs://)' }],
  flags: [
    { name: 'top', type: 'int', value: 'n', default: STATISTICS_DEFAULTS.top, description: 'most-masked tokens to list (read from the shards); 0 = none' },
    { name: 'tokenizer_dir', type: 'path', value: 'dir', description: "the build's tokenizer (default: the one build_manifest.json names)" },
    { name: 'from_shards', type: 'boolean', description: 'compute everything from the shards even where there is a manifest' },
    { name: 'json', type: 'boolean', description: 'print {statistics, mostMasked} as JSON' },
  ],
  async run(args, io) {
    const progress = deferredProgress(io, { label: 'reading', unit: 'bytes' });
    const result = await buildOutputStatistics(args.output_dir, {
      top: args.top,
      tokenizerDir: args.tokenizer_dir,
      fromShards: args.from_shards,
      signal: io.signal,
      onProgress: progress.update,
    }).finally(progress.stop);
    if (args.json) return io.json({ statistics: result.statistics, mostMasked: result.mostMasked }, { indent: 2 });
    io.text(`${args.output_dir}: ${result.shards} shard(s)`);
    io.text(describeStatistics(result.statistics));
    if (result.mostMasked.length > 0) {
      io.text('');
      io.text('most-masked tokens:');
      io.table(
        ['token', 'id', 'predictions', 'share'],
        result.mostMasked.map((t) => [t.token, t.id, t.count, percent(t.share, 1)]),
      );
    }
  },
});
