import { posix } from 'node:path';

/** The scheme of Cloud Storage paths, as gsutil and TensorFlow spell them. */
export const GCS_SCHEME = 'gs://';

/** A `gs://bucket/name` path split into its bucket and object name (no leading slash; '' for the bucket itself). */
export interface GcsLocation {
  readonly bucket: string;
  readonly name: string;
}

export const isGcsPath = (path: string): boolean => path.startsWith(GCS_SCHEME);

// Cloud Storage's bucket name rules: 3-63 characters of lowercase letters, digits, - _ and dots
// (up to 222 with dots), starting and ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** Splits `gs://bucket/a/b`; a bad bucket name is an error that says what is allowed. */
export function parseGcsPath(path: string): GcsLocation {
  if (!isGcsPath(path)) throw new Error(`${path}: not a gs:// path`);
  const rest = path.slice(GCS_SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket))
    throw new Error(
      `${path}: "${bucket}" is not a Cloud Storage bucket name (3-63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`,
    );
  const name = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/{2,}/g, '/');
  return { bucket, name };
}

export const formatGcsPath = ({ bucket, name }: GcsLocation): string => `${GCS_SCHEME}${bucket}/${name}`;

/** `name` as a folder prefix: '' stays '', anything else ends in one '/'. */
export const asPrefix = (name: string): string => (name === '' || name.endsWith('/') ? name : `${name}/`);

/** `path.join` for `gs://` paths: the bucket is kept, `.` and `..` below it resolved, no trailing slash. */
export function joinGcsPath(base: string, ...parts: string[]): string {
  const { bucket, name } = parseGcsPath(base);
  const joined = posix.normalize(posix.join(name === '' ? '.' : name, ...parts)).replace(/^\.$/, '');
  if (joined === '..' || joined.startsWith('../')) throw new Error(`${base}: ${parts.join('/')} goes above the bucket`);
  return formatGcsPath({ bucket, name: joined.replace(/\/$/, '') });
}
