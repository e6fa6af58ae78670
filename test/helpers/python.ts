import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Some tests check files with Python's own readers (zipfile, pickle). Python is optional on a
 * developer's machine; those tests skip with this message when `python3` with numpy is absent.
 */
export const hasPythonNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

export const SKIP_NO_PYTHON = "skipped: python3 with numpy not found (these tests read the files back with Python's zipfile and pickle)";

if (!hasPythonNumpy) {
  // Printed once per test file that imports this helper, so a skipped check never passes silently.
  console.warn(`[kbb tests] ${SKIP_NO_PYTHON}`);
}

/** Runs `python3 args…` with `input` on stdin; returns stdout, or throws with stderr when it fails. */
export function runPython(args: readonly string[], input?: Uint8Array): string {
  const result = spawnSync('python3', args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`python3 ${args.join(' ')} exited with ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

/** test/helpers/inspect-pytorch-bin.py: reads a torch.save-style archive without torch. */
export const INSPECT_PYTORCH_BIN = fileURLToPath(new URL('./inspect-pytorch-bin.py', import.meta.url));
