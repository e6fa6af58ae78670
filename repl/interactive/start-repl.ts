import { registry } from '../registry/commands.js';
import { appendHistory, defaultHistoryPath, loadHistory } from './history-file.js';
import { importInkLive } from './import-ink-live.js';
import { runPlainRepl } from './plain-repl.js';

/**
 * `kbb` with no arguments: the Ink prompt at a terminal; without one (a script on stdin, CI) plain
 * line-by-line execution, which never asks for raw mode.
 */
export async function startRepl(): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return runPlainRepl({ registry });
  // Ink first, on its own: app.js imports it too, and whichever import comes first decides.
  const { render } = await importInkLive();
  const [{ createElement }, { App }] = await Promise.all([import('react'), import('./app.js')]);
  const historyPath = defaultHistoryPath();
  process.stdout.write('kbb — pretrain BigBird the KoBigBird way. help lists the commands; Tab completes; exit or Ctrl-D leaves.\n');
  const instance = render(createElement(App, { registry, history: loadHistory(historyPath), onHistory: (line: string) => appendHistory(historyPath, line) }), {
    // Ctrl-C cancels the running command instead of ending kbb.
    exitOnCtrlC: false,
  });
  await instance.waitUntilExit();
  // Ink leaves raw mode; stdin must not keep the process alive once the prompt is gone.
  process.stdin.pause();
  process.stdin.unref();
  return 0;
}
