import { Box, Text } from 'ink';
import { formatExtra, progressFigures } from '../io/progress-figures.js';
import type { ProgressState } from './progress-state.js';

export interface ProgressBarProps {
  readonly progress: ProgressState;
  /** Cells for the bar itself. */
  readonly width?: number;
}

/** `building ████░░░░ 52% | 37.6 KB of 72.3 KB | 1,204 examples | 1.2 MB/s | ETA 3s` */
export function ProgressBar({ progress, width = 30 }: ProgressBarProps) {
  const figures = progressFigures(progress.unit, progress.done, progress.total, (progress.now - progress.started) / 1000);
  const filled = Math.round(figures.fraction * width);
  const extra = (progress.extra ?? []).map((name) => ` | ${formatExtra(progress.values[name] ?? 0)} ${name}`).join('');
  return (
    <Box>
      <Text>
        {progress.label} <Text color="cyan">{'█'.repeat(filled)}</Text>
        <Text dimColor>{'░'.repeat(width - filled)}</Text> {Math.floor(figures.fraction * 100)}% | {figures.done} of {figures.total}
        {extra} | {figures.rate} | ETA {figures.eta}
      </Text>
    </Box>
  );
}
