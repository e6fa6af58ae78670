import { fileSystemFor } from '../fs/index.js';
import { TokenizerLoadError } from './tokenizer-load-error.js';

/**
 * A file of a tokenizer folder, local or `gs://`; undefined when it is not there. One request on
 * Cloud Storage, rather than a look followed by a read. A folder where the file should be counts as
 * missing, as transformers' `os.path.isfile` test makes it.
 */
export async function readOptionalFile(file: string): Promise<Buffer | undefined> {
  try {
    return await fileSystemFor(file).readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    const message = (error as Error).message;
    // The store's message starts with the path; the error below names it already.
    throw new TokenizerLoadError(file, `cannot read (${message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message})`);
  }
}
