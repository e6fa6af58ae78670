import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let cached: Promise<URL> | undefined;

/**
 * The script builder worker threads run. A worker started on TypeScript source has tsx transform the
 * whole module graph again in every thread (half a second each, a tenth of a benchmark build); so the
 * worker is bundled once with esbuild into plain JavaScript, kept under node_modules/.cache where its
 * package imports still resolve. If that cannot be done, the tsx entry is used.
 */
export function builderWorkerScript(): Promise<URL> {
  cached ??= bundle().catch(() => new URL('./job-worker-entry.js', import.meta.url));
  return cached;
}

async function bundle(): Promise<URL> {
  const here = dirname(fileURLToPath(import.meta.url));
  const packageRoot = join(here, '..', '..');
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(here, 'job-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const dir = join(packageRoot, 'node_modules', '.cache', 'kbb');
  const file = join(dir, `job-worker-${digest}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, code);
    const { renameSync } = await import('node:fs');
    renameSync(temp, file);
  }
  return pathToFileURL(file);
}
