import { InputError } from '../fs/input-error.js';

/** A build refused or failed for a reason the user can act on: one line, no stack. */
export class BuildError extends InputError {
  override name = 'BuildError';

  /** `file`: the file at fault, when there is one (the message names it either way). */
  constructor(message: string, file?: string, options?: ErrorOptions) {
    super(file, message, options);
  }
}
