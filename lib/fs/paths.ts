import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { GCS_SCHEME, isGcsPath, joinGcsPath, parseGcsPath } from './gcs-path.js';

/*
 * Path arithmetic that works for local paths and `gs://` alike. node:path would turn `gs://b/x`
 * into `gs:/b/x`; these keep the scheme and the bucket.
 */

/** Joins path parts (`join` for local paths). */
export const joinPath = (base: string, ...parts: string[]): string => (isGcsPath(base) ? joinGcsPath(base, ...parts) : join(base, ...parts));

/** The folder a path is in; for `gs://bucket/x` that is `gs://bucket`. */
export function parentPath(path: string): string {
  if (!isGcsPath(path)) return dirname(path);
  const { bucket, name } = parseGcsPath(path);
  const trimmed = name.replace(/\/$/, '');
  const slash = trimmed.lastIndexOf('/');
  return `${GCS_SCHEME}${bucket}${slash < 0 ? '' : `/${trimmed.slice(0, slash)}`}`;
}

/** The last part of a path. */
export function baseName(path: string): string {
  if (!isGcsPath(path)) return basename(path);
  const { bucket, name } = parseGcsPath(path);
  const trimmed = name.replace(/\/$/, '');
  return trimmed === '' ? bucket : trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Whether `path` is absolute: every `gs://` path is. */
export const isAbsolutePath = (path: string): boolean => isGcsPath(path) || isAbsolute(path);

/** `to` relative to the folder `from` when it lies below it, `to` itself otherwise. */
export function relativePath(from: string, to: string): string {
  if (isGcsPath(from) !== isGcsPath(to)) return to;
  if (!isGcsPath(from)) return relative(from, to);
  const prefix = `${from.replace(/\/$/, '')}/`;
  return to.startsWith(prefix) ? to.slice(prefix.length) : to;
}
