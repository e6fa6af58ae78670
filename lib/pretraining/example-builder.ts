import { createMaskedLmPredictions, type MaskingConfig, type MaskingVocab } from './masking.js';
import type { PyRandom } from './py-random.js';

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
  private sentences: Int32Array[] = [];
  private length = 0;
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
    return this.length;
  }

  /** Adds one tokenized sentence (possibly empty); returns the examples it completed. */
  addSentence(ids: Int32Array): PretrainingExample[] {
    this.sentences.push(ids);
    this.length += ids.length;
    return this.length >= this.targetLength ? this.createExamples() : [];
  }

  /** The reference flushes at the end of every file, but only when some token is buffered. */
  flush(): PretrainingExample[] {
    return this.length !== 0 ? this.createExamples() : [];
  }

  private createExamples(): PretrainingExample[] {
    const { rng, config } = this;
    const firstTarget = rng.random() < config.sentencePairProb ? Math.floor((this.targetLength - 3) / 2) : 100000;
    const first: Int32Array[] = [];
    const second: Int32Array[] = [];
    let firstLength = 0;
    let secondLength = 0;
    for (const sentence of this.sentences) {
      if (firstLength === 0 || firstLength + sentence.length < firstTarget || (secondLength === 0 && firstLength < firstTarget && rng.random() < 0.5)) {
        first.push(sentence);
        firstLength += sentence.length;
      } else {
        second.push(sentence);
        secondLength += sentence.length;
      }
    }
    const examples: PretrainingExample[] = [];
    const max = config.maxSeqLength;
    if (firstLength + secondLength >= this.longLimit) {
      const joined = concat([...first, ...second], firstLength + secondLength);
      for (let start = 0; start < joined.length; start += max - 2) this.pushExample(examples, joined.subarray(start, start + max - 2), EMPTY);
    } else {
      const head = concat(first, firstLength).subarray(0, max - 2);
      this.pushExample(examples, head, concat(second, secondLength).subarray(0, Math.max(0, max - head.length - 3)));
    }
    this.sentences = [];
    this.length = 0;
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

function concat(parts: readonly Int32Array[], length: number): Int32Array {
  if (parts.length === 1) return parts[0];
  const out = new Int32Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
