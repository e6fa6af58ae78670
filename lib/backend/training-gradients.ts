import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getGradient } from '@tensorflow/tfjs-core';
import { writeBytesAtomically } from '../fs/atomic-write.js';
import { registerFusedSoftmaxGradient } from './fused-softmax-grad.js';
import { registerGradientFixes } from './gradient-fixes.js';

/**
 * The gradients (and chained tensor methods) TensorFlow.js training needs, on every backend.
 *
 * Node resolves `@tensorflow/tfjs-core` to its CommonJS bundle (dist/tf-core.node.js), which holds the
 * ops and the engine but not one gradient: those are registered by the `@tensorflow/tfjs` union
 * package (a dependency of tfjs-node, absent here) importing dist/register_all_gradients.js, an ES
 * module tree with extensionless imports that Node cannot load. Several gradients also call chained
 * methods (`x.split`, `t.reshape`) that only dist/public/chained_ops/register_all_chained_ops.js
 * adds. So both are bundled once with esbuild into one plain ES module, cached under
 * node_modules/.cache/kbb per tfjs-core version, and imported. The bundle carries its own copy of
 * the core's ops, but TensorFlow.js keeps the engine, the kernel and gradient registries and the
 * Tensor class on `globalThis`, so that copy registers into, and runs on, the one engine the rest of
 * the program uses (the same arrangement as the union package's bundle).
 */

const require = createRequire(import.meta.url);

const ENTRY = [
  "import '@tensorflow/tfjs-core/dist/register_all_gradients.js';",
  "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';",
].join('\n');

let loading: Promise<void> | undefined;

/**
 * Registers tfjs-core's gradients and chained ops unless something (tfjs-node's union package) already
 * did, then the fixes of gradient-fixes.ts and the fused softmax gradient. Idempotent.
 */
export function ensureTrainingGradients(): Promise<void> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(): Promise<void> {
  // `Tanh` stands for the whole set: the union package registers all of them or none.
  if (getGradient('Tanh') === undefined) await import(await gradientsBundleUrl());
  registerGradientFixes();
  registerFusedSoftmaxGradient();
}

async function gradientsBundleUrl(): Promise<string> {
  const coreDir = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
  const coreVersion = (JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')) as { version: string }).version;
  const cacheDir = join(coreDir, '..', '..', '.cache', 'kbb');
  const file = join(cacheDir, `tfjs-core-${coreVersion}-gradients.mjs`);
  if (existsSync(file)) return pathToFileURL(file).href;

  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: coreDir, sourcefile: 'kbb-tfjs-gradients.js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  try {
    await mkdir(cacheDir, { recursive: true });
    await writeBytesAtomically(file, code);
    return pathToFileURL(file).href;
  } catch {
    // A read-only install still trains; it just bundles again next time.
    return `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
  }
}
