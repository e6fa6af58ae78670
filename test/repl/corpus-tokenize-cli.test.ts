import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sampleCorpusDir, sampleTokenizerDir } from '../../lib/package/index.js';
import { uploadFolder } from '../corpus/support.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { kbbBin } from './kbb-process.js';

setUpGcsEmulator();

/*
 * `kbb corpus stats` and `kbb tokenize` on gs:// paths print what they print for the same files on
 * disk. The emulator runs in this process, so the CLI is spawned asynchronously: a synchronous spawn
 * would block the emulator the child is talking to.
 */

/** Runs the real `kbb` entry point; the child inherits STORAGE_EMULATOR_HOST. */
const kbb = (...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [kbbBin, ...args],
      { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, KBB_DEBUG: '' }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe.skipIf(!hasGcsEmulator)('kbb corpus stats and kbb tokenize on gs:// (emulator)', () => {
  it('corpus stats prints the same table and the same JSON (paths aside) for the bucket as for the folder', async () => {
    const remote = `gs://${uniqueBucket('cli-corpus')}/data/sample-corpus`;
    await uploadFolder(sampleCorpusDir, remote);
    const [local, stored] = await Promise.all([kbb('corpus', 'stats', sampleCorpusDir), kbb('corpus', 'stats', remote)]);
    expect(local.status, local.stderr).toBe(0);
    expect(stored.status, stored.stderr).toBe(0);
    expect(stored.stdout).toBe(local.stdout);
    expect(stored.stdout).toMatch(/^essays\.txt\s/m);
    const [localJson, storedJson] = await Promise.all([kbb('corpus', 'stats', '--json', sampleCorpusDir), kbb('corpus', 'stats', '--json', `${remote}/`)]);
    type Stats = { files: { path: string }[]; totals: object };
    const a = JSON.parse(localJson.stdout) as Stats;
    const b = JSON.parse(storedJson.stdout) as Stats;
    expect(b.files.map((f) => f.path)).toEqual(['essays.txt', 'everyday.txt', 'science-notes.txt'].map((n) => `${remote}/${n}`));
    expect(b.files.map((f) => ({ ...f, path: f.path.slice(remote.length + 1) }))).toEqual(
      a.files.map((f) => ({ ...f, path: f.path.slice(sampleCorpusDir.length + 1) })),
    );
    expect(b.totals).toEqual(a.totals);
  });

  it('tokenize --tokenizer_dir gs://… gives the same tokens and ids as the folder', async () => {
    const remote = `gs://${uniqueBucket('cli-tokenizer')}/tokenizer`;
    await uploadFolder(sampleTokenizerDir, remote);
    const text = ['도서관에서', '책을', '[MASK]', '읽었다.'];
    const [local, stored] = await Promise.all([
      kbb('tokenize', '--json', '--tokenizer_dir', sampleTokenizerDir, ...text),
      kbb('tokenize', '--json', '--tokenizer_dir', remote, ...text),
    ]);
    expect(local.status, local.stderr).toBe(0);
    expect(stored.status, stored.stderr).toBe(0);
    expect(stored.stdout).toBe(local.stdout);
    expect((JSON.parse(stored.stdout) as { tokens: string[] }).tokens).toContain('[MASK]');
    const plain = await kbb('tokenize', '--tokenizer_dir', remote, ...text);
    expect(plain.stdout).toBe((await kbb('tokenize', '--tokenizer_dir', sampleTokenizerDir, ...text)).stdout);
  });

  it('a missing gs:// corpus folder or tokenizer is one line naming the path, with no stack trace', async () => {
    const bucket = `gs://${uniqueBucket('cli-missing')}`;
    const corpus = await kbb('corpus', 'stats', `${bucket}/no-corpus`);
    expect(corpus.status).not.toBe(0);
    expect(corpus.stderr.trim().split('\n')).toHaveLength(1);
    expect(corpus.stderr).toContain(`${bucket}/no-corpus: corpus folder not found`);
    const tokenizer = await kbb('tokenize', '--tokenizer_dir', `${bucket}/no-tokenizer`, 'x');
    expect(tokenizer.status).not.toBe(0);
    expect(tokenizer.stderr.trim().split('\n')).toHaveLength(1);
    expect(tokenizer.stderr).toContain(`${bucket}/no-tokenizer: tokenizer folder not found`);
  });
});
