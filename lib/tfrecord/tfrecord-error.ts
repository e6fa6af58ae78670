/** A problem in a TFRecord file, with where it is: the file, the record number and the byte offset. */
export class TfRecordError extends Error {
  constructor(
    readonly file: string,
    readonly recordIndex: number,
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`${file}: record ${recordIndex} at byte ${offset}: ${problem}`);
    this.name = 'TfRecordError';
  }
}
