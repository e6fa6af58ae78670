import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile } from '../../lib/fs/index.js';
import { sampleCorpusDir } from '../../lib/package/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { hasTmux, promptIsBack, startTmuxSession, type TmuxSession } from '../helpers/tmux-session.js';
import { kbbBin } from './kbb-process.js';

const emulator = setUpGcsEmulator();

if (!hasTmux) console.warn('skipping the kbb> gs:// end-to-end test: tmux is not installed (.ci/run installs it with apt-get)');

/*
 * The kbb> prompt in a real terminal against the Storage emulator (which runs in this process and
 * answers while the test waits): Tab lists the bucket, one level at a time, and the completed path
 * is read from the bucket.
 */
describe.skipIf(!hasTmux || !hasGcsEmulator)('kbb> with gs:// paths in a real terminal (tmux)', () => {
  let dir = '';
  let session: TmuxSession;
  const bucket = uniqueBucket('tmux');
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kbb-e2e-gcs-'));
    await copyFile(join(sampleCorpusDir, 'essays.txt'), `gs://${bucket}/korean-corpus/essays.txt`);
    await copyFile(join(sampleCorpusDir, 'essays.txt'), `gs://${bucket}/korean-corpus/more/essays-2.txt`);
    await copyFile(join(sampleCorpusDir, 'essays.txt'), `gs://${bucket}/kept/readme.txt`);
    session = startTmuxSession(
      'kbb-gcs',
      `cd ${projectRoot} && env HOME=${dir} CI=true STORAGE_EMULATOR_HOST=${emulator.host()} ${process.execPath} ${kbbBin}; echo "[kbb exited with status $?]"`,
    );
  });
  afterAll(async () => {
    session?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Tab completes a gs:// folder by listing the bucket, and the command reads it', async () => {
    await session.waitFor(promptIsBack, 'the kbb> prompt');
    // Two entries start with k: Tab shows both and completes what they share.
    session.send(`corpus stats gs://${bucket}/k`, 'Tab');
    await session.waitFor((s) => s.includes('kept/') && s.includes('korean-corpus/'), 'both candidates');
    session.send('o', 'Tab');
    await session.waitFor((s) => s.includes(`kbb> corpus stats gs://${bucket}/korean-corpus/`), 'the completed folder');
    session.send('Enter');
    const s = await session.waitFor((text) => /2 files?/.test(text) && promptIsBack(text), 'the corpus stats');
    // The listing went below the completed folder: the file one level further down is counted.
    expect(s).toContain('more/essays-2.txt');
    session.send('exit', 'Enter');
    await session.waitFor((text) => /\[kbb exited with status 0\]/.test(text), 'kbb to exit', 30_000);
  });
});
