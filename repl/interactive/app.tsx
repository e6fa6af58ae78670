import { Box, Static, Text, useApp, useInput, useStdout } from 'ink';
import { useCallback, useRef, useState } from 'react';
import type { Registry } from '../registry/registry.js';
import { commonPrefix, completeAsync, type ListDir } from './complete.js';
import { History } from './history.js';
import {
  deleteBackward,
  deleteForward,
  deleteToEnd,
  deleteToStart,
  deleteWordBackward,
  emptyLine,
  insertText,
  type LineState,
  lineOf,
  moveEnd,
  moveHome,
  moveLeft,
  moveRight,
  replaceBeforeCursor,
} from './line-editor.js';
import { OutputEntryView } from './output-entry.js';
import { ProgressBar } from './progress-bar.js';
import { PromptLine } from './prompt-line.js';
import { useCommandRunner } from './use-command-runner.js';

type Action = 'submit' | 'complete' | 'backspace' | 'cancel' | 'eof' | 'home' | 'end' | 'killStart' | 'killEnd' | 'killWord';

/** What each control character does, whether it came as a key or inside a chunk of text. */
const CONTROL_KEYS: Readonly<Record<string, Action>> = {
  '\r': 'submit',
  '\n': 'submit',
  '\t': 'complete',
  '\x7f': 'backspace',
  '\b': 'backspace',
  '\x03': 'cancel',
  '\x04': 'eof',
  '\x01': 'home',
  '\x05': 'end',
  '\x15': 'killStart',
  '\x0b': 'killEnd',
  '\x17': 'killWord',
};

export interface AppProps {
  readonly registry: Registry;
  /** Earlier sessions' lines, oldest first. */
  readonly history?: readonly string[];
  /** Called with each submitted line (to save it). */
  readonly onHistory?: (line: string) => void;
  readonly cwd?: string;
  readonly listDir?: ListDir;
}

/** The `kbb>` prompt: a line editor with history and completion over the command registry. */
export function App({ registry, history: saved = [], onHistory, cwd, listDir }: AppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [line, setLine] = useState<LineState>(emptyLine);
  const [candidates, setCandidates] = useState<readonly string[]>([]);
  const history = useRef(new History(saved));
  // The line as of the latest key: several keys can arrive before React renders again.
  const current = useRef(line);
  const update = (next: LineState): void => {
    current.current = next;
    setLine(next);
  };
  const columns = useCallback(() => stdout.columns || 100, [stdout]);
  const runner = useCommandRunner({ registry, columns, onExit: exit });

  const submit = (text: string): void => {
    update(emptyLine);
    setCandidates([]);
    if (history.current.add(text)) onHistory?.(text);
    runner.submit(text);
  };

  // Asynchronous because a gs:// path is completed by listing the bucket; local paths answer at once.
  const completeAtCursor = async (): Promise<void> => {
    const state = current.current;
    const found = await completeAsync(state.text.slice(0, state.cursor), registry, { cwd, listDir });
    // A key typed while the bucket was being listed wins over the completion.
    if (current.current !== state) return;
    if (found.candidates.length === 0) return setCandidates([]);
    if (found.candidates.length === 1) {
      const only = found.candidates[0];
      setCandidates([]);
      return update(replaceBeforeCursor(state, found.start, only.endsWith('/') ? only : `${only} `));
    }
    const prefix = commonPrefix(found.candidates);
    if (prefix.length > state.cursor - found.start) update(replaceBeforeCursor(state, found.start, prefix));
    setCandidates(found.candidates);
  };

  const act = (action: Action): void => {
    const state = current.current;
    switch (action) {
      case 'submit':
        return submit(state.text);
      case 'complete':
        return void completeAtCursor();
      case 'backspace':
        return update(deleteBackward(state));
      case 'home':
        return update(moveHome(state));
      case 'end':
        return update(moveEnd(state));
      case 'killStart':
        return update(deleteToStart(state));
      case 'killEnd':
        return update(deleteToEnd(state));
      case 'killWord':
        return update(deleteWordBackward(state));
      case 'cancel':
        if (runner.cancel()) return runner.notice('cancelling…');
        if (state.text !== '') return update(emptyLine);
        return runner.notice('(type exit or press Ctrl-D to leave)');
      case 'eof':
        if (state.text === '' && !runner.running) return exit();
        return update(deleteForward(state));
    }
  };

  useInput((input, key) => {
    if (key.ctrl && input.length === 1) {
      const action = CONTROL_KEYS[String.fromCharCode(input.charCodeAt(0) & 0x1f)];
      return action ? act(action) : undefined;
    }
    if (key.tab) return act('complete');
    if (candidates.length > 0) setCandidates([]);
    if (key.return) return act('submit');
    if (key.upArrow) {
      const previous = history.current.previous(current.current.text);
      return previous === undefined ? undefined : update(lineOf(previous));
    }
    if (key.downArrow) {
      const next = history.current.next();
      return next === undefined ? undefined : update(lineOf(next));
    }
    if (key.leftArrow) return update(moveLeft(current.current));
    if (key.rightArrow) return update(moveRight(current.current));
    if (key.home) return act('home');
    if (key.end) return act('end');
    // Most terminals send DEL (0x7f) for Backspace, which Ink reports as `delete`.
    if (key.backspace || key.delete) return act('backspace');
    if (key.meta || input === '') return;
    // A paste, or a multiplexer's send-keys, delivers text with Enter, Tab or Ctrl keys in one
    // chunk, which Ink passes on as text: each control character in it acts as its key would.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this splits on.
    for (const part of input.split(/(\r\n|[\x00-\x1f\x7f])/)) {
      if (part === '') continue;
      const action = CONTROL_KEYS[part === '\r\n' ? '\r' : part];
      if (action) act(action);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character without a key action is dropped, not typed.
      else if (!/^[\x00-\x1f\x7f]$/.test(part)) update(insertText(current.current, part));
    }
  });

  return (
    <Box flexDirection="column">
      <Static items={[...runner.entries]}>{(entry) => <OutputEntryView key={entry.id} entry={entry} />}</Static>
      {runner.progress ? <ProgressBar progress={runner.progress} /> : null}
      {runner.running ? <Text dimColor>running {runner.running.split(' ')[0]} · Ctrl-C cancels</Text> : null}
      <PromptLine line={line} dim={runner.running !== undefined} />
      {candidates.length > 0 ? <Text dimColor>{candidates.join('  ')}</Text> : null}
    </Box>
  );
}
