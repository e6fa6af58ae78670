import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** ~/.kbb_history, one command a line (HOME decides, so tests and CI use a temporary one). */
export const defaultHistoryPath = (): string => join(process.env.HOME || homedir(), '.kbb_history');

const KEEP = 1000;

/** The saved history, oldest first; a missing or unreadable file is an empty history, never an error. */
export function loadHistory(path: string): string[] {
  try {
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-KEEP);
  } catch {
    return [];
  }
}

/** Appends one line; the file is cut back to the newest entries when it has grown to twice the limit. */
export function appendHistory(path: string, line: string): void {
  try {
    appendFileSync(path, `${line.replace(/\n/g, ' ')}\n`);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    if (lines.length > 2 * KEEP) writeFileSync(path, `${lines.slice(-KEEP).join('\n')}\n`);
  } catch {
    // History is a convenience: a read-only home must not break the prompt.
  }
}
