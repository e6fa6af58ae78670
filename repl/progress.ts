import cliProgress from 'cli-progress';
import type { ProgressOptions, ProgressReporter } from './io/command-io.js';
import { formatAmount, formatExtra, progressFigures } from './io/progress-figures.js';

/**
 * A progress bar with rate and ETA on `stream` (stderr by default) — only when it is a terminal, so
 * piped output and CI logs stay clean.
 */
export function terminalProgress(options: ProgressOptions, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const { label, total, unit } = options;
  if (!stream.isTTY || total <= 0) return { update: () => {}, stop: () => {} };
  const started = performance.now();
  const extra = (options.extra ?? []).map((name) => ` | {${name}} ${name}`).join('');
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {percentage}% | {done} of {total_h}${extra} | {rate} | ETA {eta_formatted}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, {
    done: formatAmount(unit, 0),
    total_h: formatAmount(unit, total),
    rate: '–',
    ...Object.fromEntries((options.extra ?? []).map((name) => [name, 0])),
  });
  return {
    update(done, values = {}) {
      const figures = progressFigures(unit, done, total, (performance.now() - started) / 1000);
      const extras = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, formatExtra(value)]));
      bar.update(Math.min(done, total), { done: figures.done, total_h: figures.total, rate: figures.rate, ...extras });
    },
    stop() {
      bar.stop();
    },
  };
}
