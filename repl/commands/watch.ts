import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../../lib/text/index.js';
import { readTrainingRun, type TrainingRunCursor, type TrainingRunStatus } from '../../lib/train/index.js';
import { sparkline, table } from '../format.js';
import { defineCommand } from '../registry/command-definition.js';

/** The scalars shown first, in this order; any others the event files hold follow. */
const MAIN_TAGS = ['loss', 'learning_rate', 'masked_lm_accuracy', 'global_step/sec', 'examples/sec'];

/** A training run's state as a few lines: progress, checkpoints, and each scalar's latest value with a sparkline. */
function describeRun(status: TrainingRunStatus, width: number): string {
  const { totalSteps, latestStep } = status;
  const of = totalSteps === undefined ? '' : ` of ${totalSteps} (${((100 * latestStep) / totalSteps).toFixed(1)}%)`;
  const rate = status.stepsPerSecond === undefined ? '' : `, ${status.stepsPerSecond.toFixed(2)} steps/s`;
  const eta = status.secondsLeft === undefined ? '' : `, ETA ${formatDuration(status.secondsLeft)}`;
  const names = status.checkpoints.map((c) => c.name);
  const checkpoints =
    names.length === 0 ? 'no checkpoint yet' : `${names.length} checkpoint(s): ${names.length > 3 ? `${names[0]} … ${names.at(-1)}` : names.join(', ')}`;
  const tags = [...MAIN_TAGS.filter((tag) => status.series.has(tag)), ...[...status.series.keys()].filter((tag) => !MAIN_TAGS.includes(tag)).sort()];
  const rows = tags.map((tag) => {
    const points = status.series.get(tag)!;
    const last = points.at(-1)!;
    return [
      tag,
      formatValue(last.value),
      `step ${last.step}`,
      sparkline(
        points.map((p) => p.value),
        Math.max(10, width - 60),
      ),
    ];
  });
  return [
    `${status.dir}: step ${latestStep}${of}${rate}${eta}`,
    checkpoints,
    ...(rows.length > 0 ? ['', table(['scalar', 'latest', 'at', 'history'], rows)] : ['no event files yet']),
  ].join('\n');
}

const formatValue = (value: number): string => (Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? value.toFixed(4) : value.toExponential(3));

/** `kbb watch`: any training folder, kbb's or the TensorFlow trainer's, once or as it grows. */
export const watchCommand = defineCommand({
  path: ['watch'],
  description: 'show a training run: checkpoints, step of num_train_steps, loss and learning-rate curves, steps/s and ETA; --follow keeps watching',
  arguments: [{ name: 'output_dir', type: 'path', description: 'the training folder, local or gs:// (kbb train --output_dir, or the TF trainer’s)' }],
  flags: [
    { name: 'follow', type: 'boolean', description: 'keep reading as the run writes, until Ctrl-C' },
    { name: 'interval', type: 'float', value: 'seconds', default: 5, description: 'how often --follow looks again' },
    { name: 'json', type: 'boolean', description: 'print the status as JSON (one object per look with --follow)' },
  ],
  async run(args, io) {
    let cursor: TrainingRunCursor | undefined;
    let shownStep = -1;
    for (;;) {
      const read = await readTrainingRun(args.output_dir, cursor);
      cursor = read.cursor;
      const { status } = read;
      if (status.latestStep !== shownStep) {
        shownStep = status.latestStep;
        if (args.json) io.json({ ...status, series: Object.fromEntries(status.series) });
        else io.text(describeRun(status, io.columns));
      }
      if (!args.follow) return;
      try {
        await sleep(args.interval * 1000, undefined, { signal: io.signal });
      } catch {
        return; // Ctrl-C ends following, not an error
      }
    }
  },
});
