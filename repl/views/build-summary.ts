import { type BuildManifest, MANIFEST_FILE } from '../../lib/pretraining/index.js';
import { formatBytes, table } from '../format.js';

/** A plain-text summary of a build manifest. */
export function describeBuild(manifest: BuildManifest): string {
  const s = manifest.statistics;
  const pct = (n: number): string => (s.predictions ? `${((100 * n) / s.predictions).toFixed(1)}%` : '–');
  const inputBytes = manifest.input_files.reduce((n, f) => n + f.bytes, 0);
  return [
    `read      ${manifest.input_files.length} files, ${formatBytes(inputBytes)} × ${manifest.flags.dupe_factor} passes, ${manifest.jobs.length} worker(s)`,
    `wrote     ${manifest.totals.examples.toLocaleString('en-US')} examples into ${manifest.totals.nonempty_shards} of ${manifest.totals.shards} shards in ${manifest.flags.output_dir} (${manifest.totals.seconds.toFixed(2)} s)`,
    `tokens    ${s.tokens_per_example.toFixed(1)} per example of ${manifest.flags.max_seq_length}, ${(100 * s.padding_fraction).toFixed(1)}% padding, ${s.twoSegmentExamples} two-segment examples`,
    `masking   ${s.predictions.toLocaleString('en-US')} predictions: [MASK] ${pct(s.masked)}, kept ${pct(s.kept)}, random ${pct(s.replaced)}`,
    table(
      ['n-gram', 'spans'],
      s.gramsByLength.map((count, size) => [size, count] as [number, number]).filter(([size]) => size > 0),
    ),
    s.unmaskableExamples ? `skipped   ${s.unmaskableExamples} examples with nothing maskable (the reference crashes on these)` : '',
    `manifest  ${manifest.flags.output_dir}/${MANIFEST_FILE}`,
  ]
    .filter(Boolean)
    .join('\n');
}
