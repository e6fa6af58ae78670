/**
 * Bad input, located. Every reader's own error (`CorpusError`, `TfRecordError`, `CheckpointError`,
 * `SafetensorsError`, `TokenizerLoadError`, …) extends it, so a caller can tell a refused file from a
 * bug in kbb: an `InputError` says which file, where in it (record, entry, line or byte) and what was
 * expected; anything else escaping a reader is a bug. `file` is undefined only where the input is not
 * a file (a flag, say).
 */
export class InputError extends Error {
  constructor(
    readonly file: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'InputError';
  }
}
