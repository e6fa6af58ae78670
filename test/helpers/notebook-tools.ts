import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root, its kernelspec folder (for JUPYTER_PATH) and its notebooks. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const jupyterPath = join(repoRoot, 'kernel');
export const notebooksDir = join(repoRoot, 'notebooks');

const works = (command: string, args: readonly string[], env?: NodeJS.ProcessEnv): boolean =>
  spawnSync(command, args, { stdio: 'ignore', cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000 }).status === 0;

/**
 * Jupyter with nbconvert: Debian's (/usr/bin/jupyter) first, since `jupyter` on PATH may be a
 * Python version manager's shim without it; undefined when there is none.
 */
export const jupyter = ['/usr/bin/jupyter', 'jupyter'].find(
  (command) => (command.startsWith('/') ? existsSync(command) : true) && works(command, ['nbconvert', '--version']),
);

/** The project's tslab (the kbb kernel runs `npx --no-install tslab kernel`). */
export const hasTslab = works('npx', ['--no-install', 'tslab', '--version']);

/** A Chromium (or Chrome) that runs headless. */
export const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((command) => works(command, ['--version']));

/** Headless Chromium flags: no sandbox (containers), no GPU, nothing fetched in the background. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const NOTEBOOK_TOOLS_MISSING = [
  jupyter ? '' : 'jupyter nbconvert (Debian: apt-get install --no-install-recommends jupyter-nbconvert jupyter-client)',
  hasTslab ? '' : 'tslab (npm ci)',
].filter(Boolean);

/** `npm run build:lib`: dist/kbb.cjs and dist/kernel.cjs, skipped when up to date. */
export function buildLib(): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'build-lib.ts')], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`build:lib failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim();
}
