/** A tokenizer folder that cannot be loaded, naming the file (or folder) and what is wrong with it. */
export class TokenizerLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'TokenizerLoadError';
  }
}
