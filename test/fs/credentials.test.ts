import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '@google-cloud/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { storageError } from '../../lib/fs/index.js';
import { projectRoot } from '../helpers/fixtures.js';

const home = mkdtempSync(join(tmpdir(), 'kbb-no-credentials-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Reads a gs:// object in a fresh process with only the given environment: no emulator, no gcloud login in HOME. */
function readWithout(env: Record<string, string>): { status: number | null; stderr: string } {
  const script = join(home, 'read.mts');
  writeFileSync(
    script,
    `import { readFileAt } from ${JSON.stringify(join(projectRoot, 'lib/fs/index.ts'))};
try { await readFileAt('gs://kbb-some-bucket/data/x.tfrecord'); } catch (e) { console.error(e.message); process.exit(1); }`,
  );
  const result = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: projectRoot,
    // METADATA_SERVER_DETECTION=none: not on Google Cloud, so the lookup does not wait for a metadata server.
    env: { PATH: process.env.PATH ?? '', HOME: home, METADATA_SERVER_DETECTION: 'none', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('Cloud Storage credentials (Application Default Credentials)', () => {
  it('none at all: one line naming the bucket and the command to run, no stack trace', () => {
    const { status, stderr } = readWithout({});
    expect(status).toBe(1);
    expect(stderr.trim()).toBe(
      'gs://kbb-some-bucket/data/x.tfrecord: no usable Google Cloud credentials for gs://kbb-some-bucket; run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS)',
    );
  });

  it('a key file that is not there: says so, and what to do', () => {
    const { status, stderr } = readWithout({ GOOGLE_APPLICATION_CREDENTIALS: join(home, 'missing-key.json') });
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      /cannot load Google Cloud credentials for gs:\/\/kbb-some-bucket \(.*missing-key\.json.*\); run `gcloud auth application-default login`/,
    );
  });

  it('a refused request (403) names the bucket, the action and what to run', () => {
    const refused = new ApiError({
      code: 403,
      message: 'someone@example.com does not have storage.objects.get access to the Google Cloud Storage object.',
      response: {} as never,
    });
    const error = storageError(refused, 'gs://kbb-some-bucket/a/b', 'read');
    expect(error.message).toBe(
      'gs://kbb-some-bucket/a/b: access to gs://kbb-some-bucket denied (403: someone@example.com does not have storage.objects.get access to the Google Cloud Storage object.); check that your account may read objects in it, or run `gcloud auth application-default login` as one that may',
    );
    expect(
      storageError(new ApiError({ code: 404, message: 'No such object: kbb-some-bucket/a/b', response: {} as never }), 'gs://kbb-some-bucket/a/b', 'read'),
    ).toMatchObject({
      code: 'ENOENT',
    });
  });
});
