import type { TrainProgress } from './train.js';

/** What a training progress display shows beside its bar, in this order. */
export const TRAIN_PROGRESS_FIELDS = ['step', 'loss', 'lr', 'tokens/s'] as const;

/** The figures of `TRAIN_PROGRESS_FIELDS`: the terminal bar of `kbb train` and a notebook's live display both take them from here. */
export function trainProgressFields(progress: TrainProgress): Readonly<Record<(typeof TRAIN_PROGRESS_FIELDS)[number], string>> {
  return {
    step: `${progress.step}/${progress.totalSteps}`,
    loss: progress.loss.toFixed(4),
    lr: progress.learningRate.toExponential(2),
    'tokens/s': Math.round(progress.tokensPerSecond).toLocaleString('en-US'),
  };
}

/** The fields as one line, `step 12/120 · loss 7.1234 · lr 1.00e-3 · 2,345 tokens/s`, for a notebook's progress display. */
export function trainProgressLine(progress: TrainProgress): string {
  const { step, loss, lr, 'tokens/s': tokensPerSecond } = trainProgressFields(progress);
  return `step ${step} · loss ${loss} · lr ${lr} · ${tokensPerSecond} tokens/s`;
}
