import { defineCommand } from '../../repl/registry/command-definition.js';
import type { Registry } from '../../repl/registry/registry.js';

/** Commands that exercise the REPL's faces without running the pipeline. */
export function fakeRegistry(): Registry & { readonly seen: { signal?: AbortSignal } } {
  const seen: { signal?: AbortSignal } = {};
  return {
    seen,
    groups: [{ name: 'corpus', description: 'corpus things' }],
    commands: [
      defineCommand({
        path: ['echo'],
        description: 'print the words',
        arguments: [{ name: 'words', type: 'string', variadic: true, description: 'words' }],
        flags: [{ name: 'upper', type: 'boolean', description: 'in capitals' }],
        async run({ words, upper }, io) {
          const text = words.join(' ');
          io.text(upper ? text.toUpperCase() : text);
        },
      }),
      defineCommand({
        path: ['corpus', 'stats'],
        description: 'count',
        arguments: [{ name: 'dir', type: 'path', description: 'folder' }],
        flags: [{ name: 'n', type: 'int', default: 3, description: 'a number' }],
        async run({ dir, n }, io) {
          io.table(['dir', 'n'], [[dir, n]]);
        },
      }),
      defineCommand({
        path: ['fail'],
        description: 'always fails',
        async run() {
          throw new Error('boom: the file is missing');
        },
      }),
      defineCommand({
        path: ['slow'],
        description: 'reports progress, then waits until cancelled',
        async run(_, io) {
          seen.signal = io.signal;
          const progress = io.progress({ label: 'working', total: 1000, unit: 'bytes', extra: ['examples'] });
          progress.update(250, { examples: 7 });
          try {
            await new Promise((_, reject) => {
              io.signal.addEventListener('abort', () => reject(io.signal.reason), { once: true });
            });
          } finally {
            progress.stop();
          }
        },
      }),
    ],
  };
}
