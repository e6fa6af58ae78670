import { formatDuration } from '../../lib/text/index.js';
import { formatBytes } from '../format.js';

/** The numbers a progress display shows, computed the same way for the terminal bar and the Ink bar. */
export interface ProgressFigures {
  /** 0..1 */
  readonly fraction: number;
  readonly done: string;
  readonly total: string;
  /** Per second, or '–' before there is anything to measure. */
  readonly rate: string;
  /** Time left, or '–' while unknown. */
  readonly eta: string;
}

/** How an extra figure reads after the bar: counts with thousands separators, text as it is. */
export const formatExtra = (value: number | string): string => (typeof value === 'number' ? value.toLocaleString('en-US') : value);

export const formatAmount = (unit: 'bytes' | 'items', n: number): string => (unit === 'bytes' ? formatBytes(n) : Math.round(n).toLocaleString('en-US'));

export function progressFigures(unit: 'bytes' | 'items', done: number, total: number, elapsedSeconds: number): ProgressFigures {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const perSecond = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  return {
    fraction,
    done: formatAmount(unit, done),
    total: formatAmount(unit, total),
    rate: perSecond > 0 ? `${formatAmount(unit, perSecond)}/s` : '–',
    eta: fraction >= 1 ? '0s' : perSecond > 0 ? formatDuration((total - done) / perSecond) : '–',
  };
}
