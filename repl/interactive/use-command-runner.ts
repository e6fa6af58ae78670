import { useCallback, useRef, useState } from 'react';
import { cancelledText } from '../io/command-io.js';
import type { Registry } from '../registry/registry.js';
import { inkIo } from './ink-io.js';
import type { OutputEntry } from './output-entry.js';
import type { ProgressState } from './progress-state.js';
import { runLine } from './run-line.js';

type NewEntry = OutputEntry extends infer E ? (E extends OutputEntry ? Omit<E, 'id'> : never) : never;

export interface CommandRunner {
  readonly entries: readonly OutputEntry[];
  readonly running: string | undefined;
  readonly progress: ProgressState | undefined;
  /** Queues a line; lines run one after another, in order. */
  submit(line: string): void;
  /** Cancels the running command; true if there was one. */
  cancel(): boolean;
  /** Adds a line of output outside any command (hints). */
  notice(text: string): void;
}

export interface CommandRunnerOptions {
  readonly registry: Registry;
  readonly columns: () => number;
  readonly onExit: () => void;
}

/** Runs submitted lines through the registry, collecting their output as entries. */
export function useCommandRunner({ registry, columns, onExit }: CommandRunnerOptions): CommandRunner {
  const [entries, setEntries] = useState<OutputEntry[]>([]);
  const [running, setRunning] = useState<string | undefined>(undefined);
  const [progress, setProgress] = useState<ProgressState | undefined>(undefined);
  const nextId = useRef(0);
  const queue = useRef<string[]>([]);
  const busy = useRef(false);
  const controller = useRef<AbortController | undefined>(undefined);

  const append = useCallback((entry: NewEntry) => {
    const id = nextId.current++;
    setEntries((list) => [...list, { ...entry, id } as OutputEntry]);
  }, []);

  const pump = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      for (let line = queue.current.shift(); line !== undefined; line = queue.current.shift()) {
        append({ kind: 'input', text: line });
        const abort = new AbortController();
        controller.current = abort;
        setRunning(line);
        const io = inkIo({
          signal: abort.signal,
          columns: columns(),
          print: (text) => append({ kind: 'text', text }),
          setProgress,
          printProgress: (p) => append({ kind: 'progress', progress: p }),
        });
        const outcome = await runLine(line, { registry, io });
        controller.current = undefined;
        setProgress(undefined);
        setRunning(undefined);
        if (outcome.kind === 'exit') {
          queue.current = [];
          onExit();
          return;
        }
        if (outcome.kind === 'error') append({ kind: 'error', text: outcome.text });
        if (outcome.kind === 'cancelled') append({ kind: 'notice', text: cancelledText(outcome.note) });
      }
    } finally {
      busy.current = false;
    }
  }, [append, columns, onExit, registry]);

  return {
    entries,
    running,
    progress,
    submit: (line) => {
      queue.current.push(line);
      void pump();
    },
    cancel: () => {
      if (!controller.current || controller.current.signal.aborted) return false;
      queue.current = [];
      controller.current.abort();
      return true;
    },
    notice: (text) => append({ kind: 'notice', text }),
  };
}
