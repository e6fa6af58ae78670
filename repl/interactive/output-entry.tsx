import { Text } from 'ink';
import { ProgressBar } from './progress-bar.js';
import type { ProgressState } from './progress-state.js';

/** One finished piece of the session's output, printed once above the prompt. */
export type OutputEntry =
  | { readonly id: number; readonly kind: 'input'; readonly text: string }
  | { readonly id: number; readonly kind: 'text'; readonly text: string }
  | { readonly id: number; readonly kind: 'error'; readonly text: string }
  | { readonly id: number; readonly kind: 'notice'; readonly text: string }
  | { readonly id: number; readonly kind: 'progress'; readonly progress: ProgressState };

export function OutputEntryView({ entry }: { readonly entry: OutputEntry }) {
  switch (entry.kind) {
    case 'input':
      return (
        <Text>
          <Text color="green" bold>
            kbb&gt;
          </Text>{' '}
          {entry.text}
        </Text>
      );
    case 'error':
      return <Text color="red">{entry.text}</Text>;
    case 'notice':
      return <Text color="yellow">{entry.text}</Text>;
    case 'progress':
      return <ProgressBar progress={entry.progress} />;
    default:
      return <Text>{entry.text}</Text>;
  }
}
