import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getGradient } from '@tensorflow/tfjs-core';

/**
 * Registers tfjs-core's gradients for the model tests. Node loads `@tensorflow/tfjs-core` as its
 * CommonJS bundle, which has no gradients (the `@tensorflow/tfjs` union package registers them from
 * dist/register_all_gradients.js, an ES module tree with extensionless imports Node cannot load), so
 * that tree is bundled once with esbuild and imported; tfjs keeps its registries on `globalThis`, so
 * the bundle registers into the engine everything else uses.
 *
 * A stand-in for the project's backend selection (the backend branch's `ensureTrainingGradients`),
 * which should replace it when it lands.
 */
export async function useTestGradients(): Promise<void> {
  if (getGradient('Tanh') !== undefined) return;
  const require = createRequire(import.meta.url);
  const coreDir = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
  const version = (JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')) as { version: string }).version;
  const file = join(coreDir, '..', '..', '.cache', 'kbb', `tfjs-core-${version}-gradients.mjs`);
  if (!existsSync(file)) {
    const { build } = await import('esbuild');
    const result = await build({
      stdin: {
        contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients.js';\nimport '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';\n",
        resolveDir: coreDir,
        sourcefile: 'kbb-tfjs-gradients.js',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent',
    });
    mkdirSync(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, result.outputFiles[0].contents);
    renameSync(temp, file);
  }
  await import(pathToFileURL(file).href);
}
