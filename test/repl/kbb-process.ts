import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../helpers/fixtures.js';

export const kbbBin = join(projectRoot, 'bin', 'kbb.js');

/** Runs the real `kbb` entry point with `input` on a pipe (no terminal), as `kbb < script.txt` does. */
export function kbb(args: readonly string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [kbbBin, ...args], { encoding: 'utf8', cwd: projectRoot, input, env: { ...process.env, KBB_DEBUG: '' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
