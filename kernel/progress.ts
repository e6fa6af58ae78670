import { randomBytes } from 'node:crypto';
import { formatDuration } from '../lib/text/format-duration.js';
import { escapeHtml, type MimeBundle, show } from './mime.js';

export interface ProgressState {
  readonly label: string;
  readonly done: number;
  /** Unknown while undefined (the bar then shows activity only). */
  readonly total?: number;
  /** A few words after the percentage: what has been done so far. */
  readonly detail?: string;
  /** Time left, shown as `ETA …` while unfinished. */
  readonly etaSeconds?: number;
  readonly finished?: boolean;
}

/** Progress as one display output: an HTML `<progress>` bar with its numbers, and a text bar. */
export function progressBundle(state: ProgressState): MimeBundle {
  const { label, done, total, detail, etaSeconds, finished } = state;
  const fraction = total && total > 0 ? Math.min(1, Math.max(0, done / total)) : finished ? 1 : undefined;
  const percent = fraction === undefined ? '' : `${Math.floor(fraction * 100)}%`;
  const eta = !finished && etaSeconds !== undefined ? `ETA ${formatDuration(etaSeconds)}` : '';
  const words = [percent, detail ?? '', eta, finished ? 'done' : ''].filter(Boolean).join(' · ');
  const bar = fraction === undefined ? '<progress></progress>' : `<progress max="1000" value="${Math.round(fraction * 1000)}"></progress>`;
  const html = `<div class="kbb-progress" style="font-family: monospace;"><span>${escapeHtml(label)}</span> ${bar} <span>${escapeHtml(words)}</span></div>`;
  const width = 30;
  const filled = fraction === undefined ? 0 : Math.round(fraction * width);
  const text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${words}`.trimEnd();
  return { data: { 'text/html': html, 'text/plain': text } };
}

export interface Progress {
  /**
   * Shows `done` of `total` (updates at most every `minIntervalMs`, the last one always), with the
   * time left at the rate since the first update (the first unit's start-up cost left out).
   */
  update(done: number, total?: number, detail?: string): void;
  /** Shows the finished state (full bar, "done"). */
  finish(detail?: string): void;
}

export interface ProgressOptions {
  /** Least time between two updates sent to the front end (default 200 ms). */
  readonly minIntervalMs?: number;
}

/**
 * A progress display for a long cell: one output, shown at once and then updated in place
 * (Jupyter's update_display_data under one display id), so a cell's output is not a scroll of
 * progress lines; what the notebook keeps is the final state.
 */
export function progress(label: string, options: ProgressOptions = {}): Progress {
  const displayId = `kbb-progress-${randomBytes(6).toString('hex')}`;
  const minIntervalMs = options.minIntervalMs ?? 200;
  let state: ProgressState = { label, done: 0 };
  let lastSent = 0;
  let first: { readonly done: number; readonly at: number } | undefined;
  show(progressBundle(state), { displayId });
  const send = (): void => {
    lastSent = Date.now();
    show(progressBundle(state), { displayId, update: true });
  };
  return {
    update(done, total, detail) {
      const now = performance.now();
      first ??= { done, at: now };
      const knownTotal = total ?? state.total;
      const perSecond = now > first.at ? (done - first.done) / ((now - first.at) / 1000) : 0;
      const etaSeconds = knownTotal !== undefined && perSecond > 0 ? Math.max(0, knownTotal - done) / perSecond : undefined;
      state = { label, done, total: knownTotal, detail: detail ?? state.detail, ...(etaSeconds === undefined ? {} : { etaSeconds }) };
      if (Date.now() - lastSent >= minIntervalMs) send();
    },
    finish(detail) {
      state = { ...state, done: state.total ?? state.done, detail: detail ?? state.detail, finished: true };
      send();
    },
  };
}
