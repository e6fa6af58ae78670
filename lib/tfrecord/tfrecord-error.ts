import { InputError } from '../fs/input-error.js';

/** What went wrong, for callers that react differently to a bad checksum and a cut-off file. */
export type TfRecordProblem =
  | 'length-crc' // the 8 length bytes do not match their checksum
  | 'data-crc' // the payload does not match its checksum
  | 'truncated' // the file ends inside a record
  | 'too-large' // a length no real record has (only reachable with checksums off)
  | 'bad-gzip' // the GZIP stream is corrupt or cut off
  | 'unreadable' // the file could not be opened or read
  | 'not-example'; // the payload is not a tf.train.Example (readExamples only)

/**
 * A problem in a TFRecord file, with where it is: the file, the record number (from 0, counting
 * skipped records) and the byte offset of the record's header in the (decompressed) stream.
 */
export class TfRecordError extends InputError {
  constructor(
    override readonly file: string,
    readonly recordIndex: number,
    readonly offset: number,
    readonly code: TfRecordProblem,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(file, `${file}: record ${recordIndex} at byte ${offset}: ${problem}`, options);
    this.name = 'TfRecordError';
  }
}

/** An error's message without the path in front (storage errors start with it), which a TfRecordError names already. */
export const reasonOf = (error: unknown, path: string): string => {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
};
