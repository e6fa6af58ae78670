/** A build refused or failed for a reason the user can act on: one line, no stack. */
export class BuildError extends Error {
  override name = 'BuildError';
}
