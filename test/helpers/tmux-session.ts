import { spawnSync } from 'node:child_process';

/** Whether tmux is installed (.ci/run installs it with apt-get). */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

export interface TmuxSession {
  /** Runs a tmux command against this session's own server. */
  tmux(...args: string[]): string;
  /** Keys to the session (tmux send-keys). */
  send(...keys: string[]): void;
  /** The pane's text, history included. */
  screen(): string;
  /** Polls the screen until `test` holds; on timeout the error shows the screen. Awaits between polls, so servers in this process keep serving. */
  waitFor(test: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  waitForText(text: string, timeoutMs?: number): Promise<string>;
  kill(): void;
}

/**
 * A detached tmux session, 120×50, on a server of its own (not the user's tmux) with no user config,
 * running `command` in a shell; the pane stays after the command exits.
 */
export function startTmuxSession(name: string, command: string): TmuxSession {
  const socket = `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const tmux = (...args: string[]): string => {
    const result = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-1000', '-t', name);
  const waitFor = async (test: (text: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = screen();
      if (test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen was:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '50', command, ';', 'set-option', '-t', name, 'remain-on-exit', 'on');
  return {
    tmux,
    send: (...keys) => void tmux('send-keys', '-t', name, ...keys),
    screen,
    waitFor,
    waitForText: (text, timeoutMs) => waitFor((s) => s.includes(text), JSON.stringify(text), timeoutMs),
    kill: () => void spawnSync('tmux', ['-L', socket, 'kill-server']),
  };
}

/** The last non-blank line is an empty prompt: the command finished and kbb waits for the next. */
export const promptIsBack = (s: string): boolean => /kbb>\s*$/.test(s.trimEnd().split('\n').at(-1) ?? '');
