import { type BuildManifest, type BuildOptions, buildPretrainingData } from '../../lib/pretraining/index.js';
import type { CommandIo } from './command-io.js';
import { deferredProgress } from './deferred-progress.js';

/** Runs a build with a progress display; Ctrl-C (the io's signal) cancels it and leaves no output. */
export async function buildWithProgress(options: BuildOptions, io: CommandIo): Promise<BuildManifest> {
  const progress = deferredProgress(io, { label: 'building', unit: 'bytes', extra: ['examples'] });
  let total = 0;
  try {
    const manifest = await buildPretrainingData({
      ...options,
      signal: io.signal,
      onProgress: ({ bytes, totalBytes, examples }) => {
        total = totalBytes;
        progress.update(Math.min(bytes, totalBytes), totalBytes, { examples });
      },
    });
    // Every file byte of every pass has been counted by now; this carries the final example count.
    if (progress.started) progress.update(total, total, { examples: manifest.totals.examples });
    return manifest;
  } finally {
    progress.stop();
  }
}
