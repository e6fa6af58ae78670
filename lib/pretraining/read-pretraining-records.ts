import { readExamples } from '../tfrecord/reader.js';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';
import type { ShardScanVocab } from './masking-statistics.js';
import { decodePretrainingRecord, type PretrainingRecord, type RecordVocab } from './pretraining-record.js';

/** The ids the decoding needs, from the tokenizer the build used. */
export function recordVocab(tokenizer: WordPieceTokenizer): ShardScanVocab {
  const id = (token: string): number => {
    const value = tokenizer.tokenToId(token);
    if (value === undefined) throw new Error(`the tokenizer has no ${token} token, which pretraining records use`);
    return value;
  };
  return { maskId: id('[MASK]'), padId: id('[PAD]'), isContinuation: tokenizer.isContinuation };
}

export interface ReadPretrainingRecordsOptions {
  /** Records to pass over first. */
  readonly skip?: number;
  /** Records to return at most (default: all). */
  readonly limit?: number;
}

/** Decoded pretraining records of one shard, with their index in the file; stops reading after `limit`. */
export async function* readPretrainingRecords(
  path: string,
  vocab: RecordVocab,
  options: ReadPretrainingRecordsOptions = {},
): AsyncGenerator<PretrainingRecord & { readonly index: number }> {
  const skip = options.skip ?? 0;
  const limit = options.limit ?? Infinity;
  if (limit <= 0) return;
  let index = 0;
  let returned = 0;
  for await (const example of readExamples(path)) {
    if (index >= skip) {
      yield { ...decodePretrainingRecord(example, vocab), index };
      if (++returned >= limit) return;
    }
    index++;
  }
}
