import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { builderWorkerScript } from '../../lib/pretraining/worker-script.js';
import { type BundleRecord, reusableBundle } from '../../lib/threads/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-worker-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recordOf = (bundle: string, inputs: string[]): BundleRecord => ({
  bundle,
  inputs: inputs.map((path) => ({ path, size: statSync(path).size, mtimeMs: statSync(path).mtimeMs })),
});

describe('the builder worker bundle', () => {
  it('is plain JavaScript that contains the worker entry', async () => {
    const script = await builderWorkerScript();
    const code = readFileSync(fileURLToPath(script), 'utf8');
    expect(code).toContain('runJob');
    expect(code).not.toMatch(/^import type /m);
    // The Cloud Storage client is loaded only when a gs:// path is used, never by a local build.
    expect(code).toContain('await import("@google-cloud/storage")');
    expect(code).not.toMatch(/^import [^;]*["']@google-cloud\/storage["']/m);
  });

  it('is reused while every recorded input is unchanged, and rebuilt after one changes or goes', async () => {
    const bundle = join(dir, 'bundle.mjs');
    const a = join(dir, 'a.ts');
    const b = join(dir, 'b.ts');
    writeFileSync(bundle, 'export {};\n');
    writeFileSync(a, 'export const a = 1;\n');
    writeFileSync(b, 'export const b = 2;\n');
    const record = join(dir, 'record.json');
    writeFileSync(record, JSON.stringify(recordOf(bundle, [a, b])));
    expect(await reusableBundle(record)).toBe(bundle);

    writeFileSync(b, 'export const b = 22;\n'); // a different size
    expect(await reusableBundle(record)).toBeUndefined();

    writeFileSync(record, JSON.stringify(recordOf(bundle, [a, b])));
    expect(await reusableBundle(record)).toBe(bundle);
    rmSync(a);
    expect(await reusableBundle(record)).toBeUndefined();
    expect(await reusableBundle(join(dir, 'no-record.json'))).toBeUndefined();
  });
});
