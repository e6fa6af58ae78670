import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { glibcVersion, hasNativeMallocTunables, NATIVE_MALLOC_TUNABLES, withNativeMallocTunables } from '../../lib/backend/malloc-tunables.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const onGlibc = glibcVersion() !== undefined;
if (!onGlibc) console.warn('malloc-tunables: not on glibc, so the page-fault and `kbb backend` checks skip (the settings only concern glibc)');

/**
 * Minor page faults of a child that allocates, fills and drops a 100 MB buffer `rounds` times (the
 * first round not counted): what a large kernel output costs when its memory is new to the process.
 */
function faultsOfLargeBuffers(env: NodeJS.ProcessEnv, rounds = 4): number {
  const script = `
    const fill = () => { const b = Buffer.allocUnsafeSlow(100e6); b.fill(1); };
    fill(); globalThis.gc();
    const before = process.resourceUsage().minorPageFault;
    for (let i = 1; i < ${rounds}; i++) { fill(); globalThis.gc(); }
    console.log(process.resourceUsage().minorPageFault - before);`;
  const child = spawnSync(process.execPath, ['--expose-gc', '-e', script], { env, encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return Number(child.stdout.trim());
}

describe('glibc malloc settings for the native backend', () => {
  it('adds its settings to GLIBC_TUNABLES, keeping the others and replacing its own names', () => {
    expect(hasNativeMallocTunables({})).toBe(false);
    const added = withNativeMallocTunables({ PATH: '/bin' });
    expect(added).toEqual({ PATH: '/bin', GLIBC_TUNABLES: NATIVE_MALLOC_TUNABLES });
    expect(hasNativeMallocTunables(added)).toBe(true);
    const merged = withNativeMallocTunables({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0:glibc.malloc.mmap_max=5' });
    expect(merged.GLIBC_TUNABLES).toBe(`glibc.malloc.tcache_count=0:${NATIVE_MALLOC_TUNABLES}`);
    expect(withNativeMallocTunables(merged)).toBe(merged);
  });

  it('the kbb executable and the notebook kernel start node with exactly these settings', () => {
    const shebang = readFileSync(`${root}bin/kbb.js`, 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S GLIBC_TUNABLES=${NATIVE_MALLOC_TUNABLES} node`);
    const kernel = JSON.parse(readFileSync(`${root}kernel/kernels/kbb/kernel.json`, 'utf8')) as { env?: Record<string, string> };
    expect(kernel.env?.GLIBC_TUNABLES).toBe(NATIVE_MALLOC_TUNABLES);
  });

  it.skipIf(!onGlibc)('with them a process reuses freed large buffers instead of faulting in new memory each time', () => {
    const plain = faultsOfLargeBuffers({ ...process.env, GLIBC_TUNABLES: '' });
    const tuned = faultsOfLargeBuffers(withNativeMallocTunables({ ...process.env, GLIBC_TUNABLES: '' }));
    // 3 rounds of 100 MB are 73,000 pages of 4 KiB when each is new memory (fewer with huge pages).
    expect(plain).toBeGreaterThan(10 * tuned + 1000);
    expect(tuned).toBeLessThan(2000);
  });

  it.skipIf(!onGlibc)('`kbb backend` says whether the process runs with them', () => {
    const run = (argv: string[]) => spawnSync(argv[0] as string, argv.slice(1), { cwd: root, encoding: 'utf8', env: { ...process.env, GLIBC_TUNABLES: '' } });
    const direct = run([`${root}bin/kbb.js`, 'backend', '--prefer', 'native']);
    expect(direct.status, direct.stderr).toBe(0);
    expect(direct.stdout).toMatch(/^TensorFlow\.js backend: native/m);
    expect(direct.stdout).toMatch(/malloc: large arrays reused from the heap/);
    const viaNode = run([process.execPath, `${root}bin/kbb.js`, 'backend', '--prefer', 'native']);
    expect(viaNode.stdout).toContain(`set GLIBC_TUNABLES=${NATIVE_MALLOC_TUNABLES}`);
  });
});
