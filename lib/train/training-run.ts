import { checkpointStep } from '../checkpoint/checkpoint-files.js';
import { fileSystemFor, readOptionalText } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import { PRETRAIN_CONFIG_FILE } from '../model/config-files.js';
import { addScalarPoint, readNewScalars, type ScalarPoint } from '../tensorboard/event-file-reader.js';
import { listedCheckpoints } from './train-checkpoints.js';

/** A training folder as `kbb watch` shows it: kbb's or the TensorFlow trainer's. */
export interface TrainingRunStatus {
  readonly dir: string;
  /** The checkpoints the `checkpoint` file lists, oldest first, with their steps. */
  readonly checkpoints: readonly { readonly name: string; readonly step: number }[];
  /** The newest step anything in the folder shows (a checkpoint or a summary). */
  readonly latestStep: number;
  /** `num_train_steps` of `pretrain_config.json`, when the folder has one. */
  readonly totalSteps?: number;
  /** Every scalar series of the event files, by tag, in step order. */
  readonly series: ReadonlyMap<string, readonly ScalarPoint[]>;
  /** Steps per second over the last summaries (their steps against their wall times). */
  readonly stepsPerSecond?: number;
  /** Seconds until `totalSteps` at that rate. */
  readonly secondsLeft?: number;
}

/** What to keep between reads of a run that is still writing. */
export interface TrainingRunCursor {
  readonly offsets: ReadonlyMap<string, number>;
  readonly series: Map<string, ScalarPoint[]>;
}

/** Summaries the rate is measured over. */
const RATE_WINDOW = 20;

/**
 * Reads a training folder: its checkpoints, `pretrain_config.json` and event files. With the cursor of
 * a previous read, only what the event files gained since is read (`kbb watch --follow`).
 */
export async function readTrainingRun(dir: string, cursor?: TrainingRunCursor): Promise<{ status: TrainingRunStatus; cursor: TrainingRunCursor }> {
  const fs = fileSystemFor(dir);
  // On Cloud Storage a folder is a prefix with objects under it: a run that has written nothing yet is not there.
  if (!(await fs.stat(dir))) throw new Error(`${dir}: no such folder`);
  const series = cursor?.series ?? new Map<string, ScalarPoint[]>();
  const update = await readNewScalars(dir, cursor?.offsets ?? new Map());
  for (const point of update.points) addScalarPoint(series, point);

  const checkpoints = (await listedCheckpoints(dir)).map((name) => ({ name, step: checkpointStep(name) ?? Number.NaN }));
  let totalSteps: number | undefined;
  const configFile = joinPath(dir, PRETRAIN_CONFIG_FILE);
  const configText = await readOptionalText(configFile);
  if (configText !== undefined) {
    let config: { num_train_steps?: unknown };
    try {
      config = JSON.parse(configText) as { num_train_steps?: unknown };
    } catch (error) {
      throw new Error(`${configFile}: not JSON (${(error as Error).message})`, { cause: error });
    }
    if (typeof config.num_train_steps === 'number') totalSteps = config.num_train_steps;
  }
  const progress = series.get('loss') ?? [...series.values()].find((points) => points.length > 0) ?? [];
  const latestStep = Math.max(0, ...checkpoints.map((c) => c.step).filter(Number.isFinite), ...progress.map((p) => p.step));
  const recent = progress.slice(-RATE_WINDOW);
  let stepsPerSecond: number | undefined;
  if (recent.length >= 2) {
    const first = recent[0];
    const last = recent[recent.length - 1];
    if (last.wallTime > first.wallTime) stepsPerSecond = (last.step - first.step) / (last.wallTime - first.wallTime);
  }
  const secondsLeft = stepsPerSecond && totalSteps !== undefined ? Math.max(0, totalSteps - latestStep) / stepsPerSecond : undefined;
  return {
    status: {
      dir,
      checkpoints,
      latestStep,
      ...(totalSteps === undefined ? {} : { totalSteps }),
      series,
      ...(stepsPerSecond === undefined ? {} : { stepsPerSecond }),
      ...(secondsLeft === undefined ? {} : { secondsLeft }),
    },
    cursor: { offsets: update.offsets, series },
  };
}
