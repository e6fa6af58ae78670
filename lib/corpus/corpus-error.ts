/** Bad corpus input, with where it is: the file and, when known, the 1-based line and the byte offset. */
export class CorpusError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly where: { readonly line?: number; readonly byteOffset?: number } = {},
  ) {
    const place = [where.line !== undefined ? `line ${where.line}` : '', where.byteOffset !== undefined ? `byte ${where.byteOffset}` : ''].filter(Boolean).join(', ');
    super(`${file}${place ? ` (${place})` : ''}: ${problem}`);
    this.name = 'CorpusError';
  }
}
