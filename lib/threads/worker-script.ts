import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeBytesAtomically } from '../fs/atomic-write.js';

const cached = new Map<string, Promise<URL>>();

/**
 * The script a kind of worker thread runs. A worker started on TypeScript source has tsx transform
 * the whole module graph again in every thread (half a second each, a tenth of a benchmark build); so
 * the worker's module (`entry`, a `.ts` file) is bundled once with esbuild into plain JavaScript, kept
 * under node_modules/.cache where its package imports still resolve. If that cannot be done, `fallback`
 * is used: a `.js` file beside the entry that registers tsx and imports it.
 * `name` tells the bundles of different workers apart.
 */
export function workerScript(name: string, entry: URL, fallback: URL): Promise<URL> {
  let script = cached.get(name);
  if (script === undefined) {
    script = bundle(name, fileURLToPath(entry)).catch(() => fallback);
    cached.set(name, script);
  }
  return script;
}

/** What the last bundle was made from: every source file with its size and modification time. */
export interface BundleRecord {
  readonly bundle: string;
  readonly inputs: readonly { readonly path: string; readonly size: number; readonly mtimeMs: number }[];
}

async function bundle(name: string, entry: string): Promise<URL> {
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = join(packageRoot, 'node_modules', '.cache', 'kbb');
  // One record per checkout: worktrees may share one node_modules, each with its own sources.
  const recordFile = join(dir, `${name}-${createHash('sha256').update(resolve(packageRoot)).digest('hex').slice(0, 12)}.json`);
  // Starting esbuild costs a child process and tens of milliseconds on the path to the first
  // example; an unchanged source tree reuses the last bundle instead.
  const reusable = await reusableBundle(recordFile);
  if (reusable) return pathToFileURL(reusable);

  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    metafile: true,
    absWorkingDir: packageRoot,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const file = join(dir, `${name}-${digest}.mjs`);
  await mkdir(dir, { recursive: true });
  await writeBytesAtomically(file, code);
  const inputs = await Promise.all(
    Object.keys(result.metafile.inputs).map(async (input) => {
      const path = resolve(packageRoot, input);
      const { size, mtimeMs } = await stat(path);
      return { path, size, mtimeMs };
    }),
  );
  await writeBytesAtomically(recordFile, JSON.stringify({ bundle: file, inputs } satisfies BundleRecord));
  return pathToFileURL(file);
}

/** The bundle a record names, if it and every input are still as recorded. */
export async function reusableBundle(recordFile: string): Promise<string | undefined> {
  try {
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as BundleRecord;
    const current = await Promise.all([record.bundle, ...record.inputs.map((i) => i.path)].map((path) => stat(path)));
    const unchanged = record.inputs.every((input, i) => current[i + 1].size === input.size && current[i + 1].mtimeMs === input.mtimeMs);
    return unchanged ? record.bundle : undefined;
  } catch {
    return undefined; // no record yet, or a file has gone: bundle again
  }
}
