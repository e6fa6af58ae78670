import type { PyRandom } from '../random/py-random.js';
import { IdBuffer } from '../tokenizer/id-buffer.js';
import { createMaskedLmPredictions, type MaskingConfig, type MaskingVocab } from './masking.js';

export interface PackingConfig extends MaskingConfig {
  readonly maxSeqLength: number;
  readonly sentencePairProb: number;
  readonly shortSeqProb: number;
  /** Buffers of at least int(maxSeqLength × this) tokens are cut into chunks instead of truncated. */
  readonly longSeqThreshold: number;
}

export interface BuilderVocab extends MaskingVocab {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
}

/** One pretraining example, padded: the six features the reference writes, plus what it was built from. */
export interface PretrainingExample {
  readonly inputIds: Int32Array;
  readonly segmentIds: Int32Array;
  readonly maskedLmPositions: Int32Array;
  readonly maskedLmIds: Int32Array;
  readonly maskedLmWeights: Float32Array;
  /** Token ids before masking, unpadded (`[CLS] … [SEP]`). */
  readonly tokens: Int32Array;
  /** Whole words per masked span. */
  readonly gramSizes: number[];
}

/**
 * RoBERTa-style "full sentences" packing, as KoBigBird's ExampleBuilder does it: sentences are
 * buffered until the target length is reached; the buffer becomes one example (overflow beyond
 * max_seq_length − 2 is dropped) or, when it reached the long-sequence limit, consecutive chunks.
 * The random draws happen in the reference's order, so a seeded builder reproduces its examples.
 */
export class ExampleBuilder {
  /** The buffered sentences' ids back to back, and each sentence's length: no array per sentence. */
  private readonly pending = new IdBuffer(8192);
  private readonly sentenceLengths = new IdBuffer(256);
  private readonly first = new IdBuffer(8192);
  private readonly second = new IdBuffer(256);
  private targetLength: number;
  private readonly longLimit: number;
  /** Examples dropped because nothing in them could be masked (where the reference crashes). */
  unmaskableExamples = 0;

  constructor(
    readonly config: PackingConfig,
    private readonly rng: PyRandom,
    private readonly vocab: BuilderVocab,
  ) {
    this.targetLength = config.maxSeqLength;
    // Python: int(max_len * threshold), a float product truncated.
    this.longLimit = Math.trunc(config.maxSeqLength * config.longSeqThreshold);
  }

  /** Tokens buffered for the next example. */
  get bufferedLength(): number {
    return this.pending.length;
  }

  /**
   * Adds one tokenized sentence, `ids[start, end)` (possibly empty); returns the examples it
   * completed. The ids are copied, so `ids` may be a scratch buffer reused for the next sentence.
   */
  addSentence(ids: Int32Array, start = 0, end = ids.length): PretrainingExample[] {
    this.pending.pushRange(ids, start, end);
    this.sentenceLengths.push(end - start);
    return this.pending.length >= this.targetLength ? this.createExamples() : [];
  }

  /** The reference flushes at the end of every file, but only when some token is buffered. */
  flush(): PretrainingExample[] {
    return this.pending.length !== 0 ? this.createExamples() : [];
  }

  private createExamples(): PretrainingExample[] {
    const { rng, config, pending, first, second } = this;
    const firstTarget = rng.random() < config.sentencePairProb ? Math.floor((this.targetLength - 3) / 2) : 100000;
    first.clear();
    second.clear();
    const lengths = this.sentenceLengths.data;
    for (let k = 0, at = 0; k < this.sentenceLengths.length; at += lengths[k++]) {
      const length = lengths[k];
      if (first.length === 0 || first.length + length < firstTarget || (second.length === 0 && first.length < firstTarget && rng.random() < 0.5)) {
        first.pushRange(pending.data, at, at + length);
      } else {
        second.pushRange(pending.data, at, at + length);
      }
    }
    const examples: PretrainingExample[] = [];
    const max = config.maxSeqLength;
    if (first.length + second.length >= this.longLimit) {
      first.pushRange(second.data, 0, second.length);
      const joined = first.data.subarray(0, first.length);
      for (let start = 0; start < joined.length; start += max - 2) this.pushExample(examples, joined.subarray(start, start + max - 2), EMPTY);
    } else {
      const head = first.data.subarray(0, Math.min(first.length, max - 2));
      this.pushExample(examples, head, second.data.subarray(0, Math.min(second.length, Math.max(0, max - head.length - 3))));
    }
    pending.clear();
    this.sentenceLengths.clear();
    this.targetLength = rng.random() < config.shortSeqProb ? rng.randint(5, max) : max;
    return examples;
  }

  private pushExample(out: PretrainingExample[], first: Int32Array, second: Int32Array): void {
    const { vocab, config } = this;
    const tokens = new Int32Array(first.length + 2 + (second.length > 0 ? second.length + 1 : 0));
    tokens[0] = vocab.clsId;
    tokens.set(first, 1);
    tokens[first.length + 1] = vocab.sepId;
    const segmentIds = new Int32Array(config.maxSeqLength);
    if (second.length > 0) {
      tokens.set(second, first.length + 2);
      tokens[tokens.length - 1] = vocab.sepId;
      segmentIds.fill(1, first.length + 2, tokens.length);
    }
    const masked = createMaskedLmPredictions(tokens, this.rng, config, vocab);
    if (masked === undefined) {
      this.unmaskableExamples++;
      return;
    }
    const inputIds = new Int32Array(config.maxSeqLength).fill(vocab.padId);
    inputIds.set(masked.outputIds);
    const maskedLmPositions = new Int32Array(config.maxPredictionsPerSeq);
    const maskedLmIds = new Int32Array(config.maxPredictionsPerSeq).fill(vocab.padId);
    const maskedLmWeights = new Float32Array(config.maxPredictionsPerSeq);
    maskedLmPositions.set(masked.positions);
    maskedLmIds.set(masked.labels);
    maskedLmWeights.fill(1, 0, masked.positions.length);
    out.push({ inputIds, segmentIds, maskedLmPositions, maskedLmIds, maskedLmWeights, tokens, gramSizes: masked.gramSizes });
  }
}

const EMPTY = new Int32Array(0);
