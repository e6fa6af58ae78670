import { fileSystemFor } from '../fs/file-system-for.js';
import { baseName, joinPath } from '../fs/paths.js';
import type { MersenneTwisterState } from '../random/mersenne-twister.js';
import { PyRandom } from '../random/py-random.js';
import { compareCodePoints } from '../text/compare-code-points.js';
import { decodeExample, type Example } from '../tfrecord/example.js';
import { floatValues, int64Values } from '../tfrecord/example-accessors.js';
import { RecordFile, type RecordPointer } from '../tfrecord/record-file.js';

/*
 * The trainer's input, KoBigBird's `input_fn` made deterministic (spec §3.2): the files of
 * `data_dir/pretrain_data.tfrecord*` in a seeded order, their records through a seeded shuffle buffer,
 * repeated epoch after epoch, in batches. The reference interleaves files nondeterministically; here one
 * file is read after another, so the same seed gives the same batches, and the state after any batch
 * (a few numbers and the buffer's record pointers) lets a resumed run continue with exactly the batches
 * an uninterrupted one would have had.
 */

/** The files training reads in a data folder, as the reference's glob `pretrain_data.tfrecord*`. */
export const TRAINING_FILE_PREFIX = 'pretrain_data.tfrecord';

/** The reference's shuffle buffer, in examples. */
export const SHUFFLE_BUFFER_EXAMPLES = 10_000;

/** One batch, row-major host arrays. */
export interface PretrainingBatch {
  /** B, S and P. */
  readonly size: number;
  readonly seqLength: number;
  readonly predictions: number;
  /** [B, S] */
  readonly inputIds: Int32Array;
  /** [B, S] */
  readonly segmentIds: Int32Array;
  /** [B, S] `input_ids != pad`, the reference model's `input_mask`. */
  readonly inputMask: Int32Array;
  /** [B, P] */
  readonly maskedLmPositions: Int32Array;
  /** [B, P] */
  readonly maskedLmIds: Int32Array;
  /** [B, P] */
  readonly maskedLmWeights: Float32Array;
  /** [B] (the builder writes a dummy 0). */
  readonly nextSentenceLabels: Int32Array;
}

export interface PretrainingInputOptions {
  /** The folder of `pretrain_data.tfrecord*` files. */
  readonly dataDir: string;
  /** S: `input_ids` and `segment_ids` of every record must have this many values. */
  readonly seqLength: number;
  /** P: `masked_lm_*` of every record must have this many values. */
  readonly predictions: number;
  /** B: examples per batch. */
  readonly batchSize: number;
  /** `[PAD]`'s id, for the input mask. */
  readonly padId: number;
  /** Seeds the file order and the shuffle buffer. */
  readonly seed: number;
  /**
   * Training (default): shuffled files and buffer, repeated for ever. Evaluation: every file once in
   * name order, no shuffle, the last partial batch dropped (the reference's eval input).
   */
  readonly mode?: 'train' | 'eval';
  /** Default `SHUFFLE_BUFFER_EXAMPLES`. */
  readonly shuffleBuffer?: number;
  /** Continue from `state()` of an earlier run over the same files. */
  readonly state?: PretrainingInputState;
}

/** Where the input is after a batch: JSON-safe, saved beside each checkpoint. */
export interface PretrainingInputState {
  /** The files, in name order (a resume over other files is refused). */
  readonly files: readonly string[];
  readonly epoch: number;
  readonly rng: MersenneTwisterState;
  /** This epoch's file order, as indexes into `files`. */
  readonly order: readonly number[];
  /** Position in `order` of the file being read, its next record's offset and number. */
  readonly cursor: number;
  readonly offset: number;
  readonly index: number;
  /** The shuffle buffer: [file, record number, offset, length] of each record in it. */
  readonly buffer: readonly (readonly [number, number, number, number])[];
  /** Examples handed out so far. */
  readonly examples: number;
}

interface Slot {
  readonly file: number;
  readonly pointer: RecordPointer;
}

export class PretrainingInput {
  private readonly handles = new Map<number, RecordFile>();
  private readonly buffer: Slot[] = [];
  private epoch = 0;
  private order: number[] = [];
  private cursor = 0;
  private offset = 0;
  private index = 0;
  private examples = 0;

  private constructor(
    private readonly options: PretrainingInputOptions,
    readonly files: readonly string[],
    private readonly rng: PyRandom,
  ) {}

  /**
   * Lists and checks the files: each file's first record must have the lengths the options expect,
   * so a mismatch is found before any training step. The data must be uncompressed, as the
   * reference trainer reads it.
   */
  static async open(options: PretrainingInputOptions): Promise<PretrainingInput> {
    let names: string[];
    try {
      names = (await fileSystemFor(options.dataDir).list(options.dataDir))
        .filter((entry) => !entry.isDirectory && entry.name.startsWith(TRAINING_FILE_PREFIX))
        .map((entry) => entry.name)
        .sort(compareCodePoints);
    } catch (error) {
      throw new Error(`${options.dataDir}: cannot list the training data (${(error as Error).message})`, { cause: error });
    }
    if (names.length === 0) {
      if (!(await fileSystemFor(options.dataDir).stat(options.dataDir))) throw new Error(`${options.dataDir}: no such folder (the training data)`);
      throw new Error(`${options.dataDir}: no ${TRAINING_FILE_PREFIX}* files (build them with kbb build-tfrecord)`);
    }
    const files = names.map((name) => joinPath(options.dataDir, name));
    const input = new PretrainingInput(options, files, new PyRandom(options.seed));
    let records = 0;
    for (let file = 0; file < files.length; file++) {
      const handle = await input.file(file);
      const first = await handle.pointerAt(0, 0);
      if (!first) continue;
      records++;
      checkShapes(decodeExample(await handle.read(first)), files[file], 0, options);
    }
    if (records === 0) throw new Error(`${options.dataDir}: the ${files.length} ${TRAINING_FILE_PREFIX}* files hold no record`);
    if (options.state) input.restore(options.state);
    else input.startEpoch();
    return input;
  }

  /** The next batch; in eval mode undefined once fewer than a batch of records is left. */
  async nextBatch(): Promise<PretrainingBatch | undefined> {
    const { batchSize: b, seqLength: s, predictions: p, padId } = this.options;
    const batch: PretrainingBatch = {
      size: b,
      seqLength: s,
      predictions: p,
      inputIds: new Int32Array(b * s),
      segmentIds: new Int32Array(b * s),
      inputMask: new Int32Array(b * s),
      maskedLmPositions: new Int32Array(b * p),
      maskedLmIds: new Int32Array(b * p),
      maskedLmWeights: new Float32Array(b * p),
      nextSentenceLabels: new Int32Array(b),
    };
    for (let row = 0; row < b; row++) {
      const slot = await this.nextSlot();
      if (!slot) return undefined;
      const example = decodeExample(await (await this.file(slot.file)).read(slot.pointer));
      const features = checkShapes(example, this.files[slot.file], slot.pointer.index, this.options);
      batch.inputIds.set(features.inputIds, row * s);
      batch.segmentIds.set(features.segmentIds, row * s);
      for (let i = 0; i < s; i++) batch.inputMask[row * s + i] = features.inputIds[i] === padId ? 0 : 1;
      batch.maskedLmPositions.set(features.positions, row * p);
      batch.maskedLmIds.set(features.ids, row * p);
      batch.maskedLmWeights.set(features.weights, row * p);
      batch.nextSentenceLabels[row] = features.nextSentence;
      this.examples++;
    }
    return batch;
  }

  /** Where the input is now, to continue from exactly here (`options.state`). */
  state(): PretrainingInputState {
    return {
      files: this.files.map((file) => baseName(file)),
      epoch: this.epoch,
      rng: this.rng.getState(),
      order: [...this.order],
      cursor: this.cursor,
      offset: this.offset,
      index: this.index,
      buffer: this.buffer.map(({ file, pointer }) => [file, pointer.index, pointer.offset, pointer.length] as const),
      examples: this.examples,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((handle) => handle.close()));
    this.handles.clear();
  }

  private get training(): boolean {
    return (this.options.mode ?? 'train') === 'train';
  }

  private startEpoch(): void {
    this.order = this.files.map((_, i) => i);
    if (this.training) this.rng.shuffle(this.order);
    this.cursor = 0;
    this.offset = 0;
    this.index = 0;
  }

  /** The next record from the files, in this epoch's order; undefined at the epoch's end. */
  private async nextPointer(): Promise<Slot | undefined> {
    while (this.cursor < this.order.length) {
      const file = this.order[this.cursor];
      const pointer = await (await this.file(file)).pointerAt(this.offset, this.index);
      if (pointer) {
        this.offset = RecordFile.next(pointer);
        this.index++;
        return { file, pointer };
      }
      this.cursor++;
      this.offset = 0;
      this.index = 0;
    }
    return undefined;
  }

  /**
   * tf.data's shuffle: the buffer is filled, then each example is a random one of it, replaced by the
   * next record; at the end of the data the buffer drains in random order. Training then starts the
   * next epoch (the reference's `repeat` after `shuffle`: an epoch ends before the next begins).
   */
  private async nextSlot(): Promise<Slot | undefined> {
    if (!this.training) return this.nextPointer();
    const capacity = this.options.shuffleBuffer ?? SHUFFLE_BUFFER_EXAMPLES;
    for (let attempt = 0; attempt < 2; attempt++) {
      while (this.buffer.length < capacity) {
        const next = await this.nextPointer();
        if (!next) break;
        this.buffer.push(next);
      }
      if (this.buffer.length > 0) break;
      this.epoch++;
      this.startEpoch();
    }
    const j = this.rng.randbelow(this.buffer.length);
    const chosen = this.buffer[j];
    const next = await this.nextPointer();
    if (next) this.buffer[j] = next;
    else {
      this.buffer[j] = this.buffer[this.buffer.length - 1];
      this.buffer.pop();
    }
    return chosen;
  }

  private restore(state: PretrainingInputState): void {
    const names = this.state().files;
    if (state.files.length !== names.length || state.files.some((name, i) => name !== names[i])) {
      throw new Error(`${this.options.dataDir}: the training data changed since the checkpoint was saved (its files are not the ones the run read)`);
    }
    this.epoch = state.epoch;
    this.rng.setState(state.rng);
    this.order = [...state.order];
    this.cursor = state.cursor;
    this.offset = state.offset;
    this.index = state.index;
    this.buffer.length = 0;
    for (const [file, index, offset, length] of state.buffer) this.buffer.push({ file, pointer: { index, offset, length } });
    this.examples = state.examples;
  }

  private async file(index: number): Promise<RecordFile> {
    let handle = this.handles.get(index);
    if (handle) {
      // Least recently used goes first: move this one to the end.
      this.handles.delete(index);
      this.handles.set(index, handle);
    } else {
      // A data folder may hold a thousand shards: keep a few open, not one descriptor each.
      if (this.handles.size >= MAX_OPEN_FILES) {
        const [oldest, file] = this.handles.entries().next().value as [number, RecordFile];
        this.handles.delete(oldest);
        await file.close();
      }
      handle = await RecordFile.open(this.files[index]);
      this.handles.set(index, handle);
    }
    return handle;
  }
}

const MAX_OPEN_FILES = 32;

interface RecordFeatures {
  readonly inputIds: number[];
  readonly segmentIds: number[];
  readonly positions: number[];
  readonly ids: number[];
  readonly weights: Float32Array;
  readonly nextSentence: number;
}

/** The features of one record, each of the length the run expects; an error names the file, the record and both lengths. */
function checkShapes(example: Example, file: string, record: number, options: PretrainingInputOptions): RecordFeatures {
  const where = `${file}: record ${record}`;
  const read = <T extends { length: number }>(key: string, values: () => T, expected: number, flag: string): T => {
    let got: T;
    try {
      got = values();
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
    }
    if (got.length !== expected) throw new Error(`${where}: ${key} has ${got.length} values, but ${flag} is ${expected}`);
    return got;
  };
  const s = options.seqLength;
  const p = options.predictions;
  const nsp = example.has('next_sentence_labels') ? read('next_sentence_labels', () => int64Values(example, 'next_sentence_labels'), 1, 'its length') : [0];
  return {
    inputIds: read('input_ids', () => int64Values(example, 'input_ids'), s, '--max_encoder_length'),
    segmentIds: read('segment_ids', () => int64Values(example, 'segment_ids'), s, '--max_encoder_length'),
    positions: read('masked_lm_positions', () => int64Values(example, 'masked_lm_positions'), p, '--max_predictions_per_seq'),
    ids: read('masked_lm_ids', () => int64Values(example, 'masked_lm_ids'), p, '--max_predictions_per_seq'),
    weights: read('masked_lm_weights', () => floatValues(example, 'masked_lm_weights'), p, '--max_predictions_per_seq'),
    nextSentence: nsp[0],
  };
}
