import cliProgress from 'cli-progress';
import { formatBytes } from './format.js';

export interface ByteProgress {
  /** Sets the bytes done so far. */
  update(doneBytes: number, extra?: Readonly<Record<string, string | number>>): void;
  stop(): void;
}

/**
 * A progress bar over bytes, with rate and ETA, on stderr — only when stderr is a terminal, so
 * piped output and CI logs stay clean.
 */
export function byteProgress(label: string, totalBytes: number, options: { readonly stream?: NodeJS.WriteStream; readonly extra?: string } = {}): ByteProgress {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY || totalBytes <= 0) return { update: () => {}, stop: () => {} };
  const started = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {percentage}% | {done} of {total_h}${options.extra ?? ''} | {rate} | ETA {eta_formatted}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes, 0, { done: formatBytes(0), total_h: formatBytes(totalBytes), rate: '–' });
  return {
    update(doneBytes, extra = {}) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(doneBytes, { done: formatBytes(doneBytes), total_h: formatBytes(totalBytes), rate: seconds > 0 ? `${formatBytes(doneBytes / seconds)}/s` : '–', ...extra });
    },
    stop() {
      bar.stop();
    },
  };
}
