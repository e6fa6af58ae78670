/** A checkpoint that cannot be read or written as asked; the message names the file and the variable. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}
