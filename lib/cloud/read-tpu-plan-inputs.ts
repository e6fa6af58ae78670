import { CheckpointReader } from '../checkpoint/tensor-bundle-reader.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import { readBuildManifest } from '../pretraining/build-output-statistics.js';
import { int64Values } from '../tfrecord/example-accessors.js';
import { readExamples } from '../tfrecord/reader.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import { TRAINING_FILE_PREFIX } from '../train/pretraining-input.js';
import { TRAIN_DEFAULTS, type TrainFlags } from '../train/train-flags.js';
import type { DataSummary, RecordShape, TpuPlanInputs } from './tpu-checks.js';
import { TPU_DEFAULTS, type TpuSettings } from './tpu-settings.js';

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/** The first record's shapes, as the trainer's parser sees them. */
async function firstRecord(file: string): Promise<RecordShape | undefined> {
  for await (const example of readExamples(file)) {
    return { file, index: 0, length: int64Values(example, 'input_ids').length, slots: int64Values(example, 'masked_lm_positions').length };
  }
  return undefined;
}

/** What the trainer's glob finds in the data folder, the first record of its first and last file, and the build manifest's figures. */
async function readData(dir: string, readErrors: string[]): Promise<DataSummary> {
  const fs = fileSystemFor(dir);
  const files = (await fs.list(dir))
    .filter((e) => !e.isDirectory && e.name.startsWith(TRAINING_FILE_PREFIX))
    .map((e) => joinPath(dir, e.name))
    .sort();
  const records: RecordShape[] = [];
  for (const file of [...new Set([files[0], files.at(-1)])].filter((f) => f !== undefined)) {
    try {
      const record = await firstRecord(file);
      if (record) records.push(record);
    } catch (error) {
      readErrors.push(firstLine(error));
    }
  }
  let manifest: DataSummary['manifest'];
  try {
    const m = await readBuildManifest(dir);
    if (m) {
      const number = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
      manifest = {
        maxSeqLength: number(m.flags.max_seq_length),
        maxPredictionsPerSeq: number(m.flags.max_predictions_per_seq),
        vocabSize: number(m.tokenizer?.vocab_size),
        examples: number(m.totals?.examples),
      };
    }
  } catch (error) {
    readErrors.push(firstLine(error));
  }
  return { dir, files, records, ...(manifest ? { manifest } : {}) };
}

/**
 * Reads what `kbb tpu plan` checks, local or `gs://`: the data folder (its files, the first record
 * of the first and last, the build manifest), the tokenizer's size and the init checkpoint's
 * variables. A piece that cannot be read is one line in `readErrors`, not an exception, so that
 * every problem is shown at once.
 */
export async function readTpuPlanInputs(flags: Partial<TrainFlags>, tpu: Partial<TpuSettings> = {}): Promise<TpuPlanInputs> {
  const all: TrainFlags = { ...TRAIN_DEFAULTS, ...flags };
  const settings: TpuSettings = { ...TPU_DEFAULTS, ...tpu };
  const readErrors: string[] = [];
  const [data, tokenizer, checkpoint] = await Promise.all([
    readData(all.data_dir, readErrors).catch((error) => {
      readErrors.push(`--data_dir ${all.data_dir}: ${firstLine(error)}`);
      return undefined;
    }),
    loadTokenizer(all.tokenizer_dir).then(
      (t) => ({ dir: all.tokenizer_dir, vocabSize: t.vocabSize }),
      (error) => {
        readErrors.push(firstLine(error));
        return undefined;
      },
    ),
    all.init_checkpoint === null
      ? undefined
      : CheckpointReader.open(all.init_checkpoint).then(
          async (reader) => {
            const variables = reader.variables.map((v) => ({ name: v.name, shape: v.shape }));
            await reader.close();
            return { prefix: all.init_checkpoint!, variables };
          },
          (error) => {
            readErrors.push(firstLine(error));
            return undefined;
          },
        ),
  ]);
  return {
    flags: all,
    tpu: settings,
    readErrors,
    ...(data ? { data } : {}),
    ...(tokenizer ? { tokenizer } : {}),
    ...(checkpoint ? { checkpoint } : {}),
  };
}
