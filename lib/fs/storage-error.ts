import { isGcsPath, parseGcsPath } from './gcs-path.js';

/** A file-system failure that names the path, with a node-style `code` (ENOENT for a missing file on either store). */
export class StorageError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${message}`, options);
    this.name = 'StorageError';
  }
}

const LOGIN = 'gcloud auth application-default login';

/** Application Default Credentials could not be found or loaded. */
export class CredentialsError extends Error {}

/**
 * One line for what went wrong talking to Cloud Storage, naming the bucket and what to run, in
 * place of the client's stack of HTTP details: no credentials, credentials refused, no object.
 */
export function storageError(error: unknown, path: string, action: 'read' | 'write' | 'list' | 'stat' | 'delete'): Error {
  if (error instanceof StorageError) return error;
  const e = error as { code?: number | string; message?: string };
  const message = e.message ?? String(error);
  const bucket = isGcsPath(path) ? `gs://${parseGcsPath(path).bucket}` : path;
  if (error instanceof CredentialsError && !/could not load the default/i.test(message))
    return new StorageError(
      path,
      'ENOCREDENTIALS',
      `cannot load Google Cloud credentials for ${bucket} (${firstLine(message)}); run \`${LOGIN}\` or fix GOOGLE_APPLICATION_CREDENTIALS`,
      {
        cause: error,
      },
    );
  if (error instanceof CredentialsError || /invalid_grant|reauth/i.test(message))
    return new StorageError(
      path,
      'ENOCREDENTIALS',
      `no usable Google Cloud credentials for ${bucket}; run \`${LOGIN}\` (or set GOOGLE_APPLICATION_CREDENTIALS)`,
      { cause: error },
    );
  if (e.code === 401 || e.code === 403)
    return new StorageError(
      path,
      'EACCES',
      `access to ${bucket} denied (${e.code}: ${firstLine(message)}); check that your account may ${action} objects in it, or run \`${LOGIN}\` as one that may`,
      { cause: error },
    );
  if (e.code === 404) return new StorageError(path, 'ENOENT', `no such object${/bucket/i.test(message) ? ` (${firstLine(message)})` : ''}`, { cause: error });
  const network = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH)\b/.exec(`${e.code ?? ''} ${message}`);
  if (network) {
    const host = process.env.STORAGE_EMULATOR_HOST;
    return new StorageError(
      path,
      network[1],
      host
        ? `cannot reach the Storage emulator at ${host} (STORAGE_EMULATOR_HOST; ${network[1]})`
        : `cannot reach Cloud Storage for ${bucket} (${network[1]}: is this machine online?)`,
      { cause: error },
    );
  }
  return new StorageError(path, typeof e.code === 'string' ? e.code : 'EIO', `cannot ${action} (${firstLine(message)})`, { cause: error });
}

const firstLine = (text: string): string => text.split('\n')[0].slice(0, 300);
