import { InputError } from '../fs/input-error.js';

/** A tokenizer folder that cannot be loaded, naming the file (or folder) and what is wrong with it. */
export class TokenizerLoadError extends InputError {
  constructor(
    override readonly file: string,
    message: string,
  ) {
    super(file, `${file}: ${message}`);
    this.name = 'TokenizerLoadError';
  }
}
