import { InputError } from '../fs/input-error.js';

/** A checkpoint that cannot be read or written as asked; the message names the file and the variable. */
export class CheckpointError extends InputError {
  override name = 'CheckpointError';

  /** `file`: the file at fault, when there is one (the message names it either way). */
  constructor(message: string, file?: string, options?: ErrorOptions) {
    super(file, message, options);
  }
}
