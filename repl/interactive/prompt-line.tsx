import { Text } from 'ink';
import type { LineState } from './line-editor.js';

/** `kbb> text` with the cursor shown as an inverted cell. */
export function PromptLine({ line, prompt = 'kbb>', dim = false }: { readonly line: LineState; readonly prompt?: string; readonly dim?: boolean }) {
  const before = line.text.slice(0, line.cursor);
  const at = line.text.slice(line.cursor, line.cursor + 1) || ' ';
  const after = line.text.slice(line.cursor + 1);
  return (
    <Text dimColor={dim}>
      <Text color="green" bold>
        {prompt}
      </Text>{' '}
      {before}
      <Text inverse>{at}</Text>
      {after}
    </Text>
  );
}
