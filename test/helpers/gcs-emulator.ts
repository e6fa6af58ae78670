import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/*
 * A real Cloud Storage emulator, started in this process: firebase-tools' Storage emulator, which
 * speaks the JSON API that @google-cloud/storage uses (multipart, resumable and streamed uploads,
 * ranged downloads, delimiter listings with paging, CRC-32C metadata, copy, delete). Its Java rules
 * runtime is not started: kbb talks to the GCS API, which the emulator serves as an admin, and the
 * rules only guard Firebase's own API. Buckets are implicit: any name works.
 */

const require = createRequire(import.meta.url);

const resolveFirebase = (): string | undefined => {
  try {
    return require.resolve('firebase-tools/lib/emulator/storage/index.js');
  } catch {
    return undefined;
  }
};

/** Whether firebase-tools (a devDependency) is installed. */
export const hasGcsEmulator = resolveFirebase() !== undefined;

export const SKIP_NO_GCS_EMULATOR = 'skipped: firebase-tools is not installed, so there is no Cloud Storage emulator (npm ci installs it)';

// Every test file that reaches gs:// imports this module: its skipped tests say why, once per file.
if (!hasGcsEmulator) console.warn(`[kbb tests] gs:// tests ${SKIP_NO_GCS_EMULATOR}`);

export interface GcsEmulator {
  /** `http://127.0.0.1:PORT`: the value for STORAGE_EMULATOR_HOST. */
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts the emulator on `port` (0: any free port) with its blobs in a temporary folder of its own. */
export async function startGcsEmulator(port = 0): Promise<GcsEmulator> {
  const storagePath = resolveFirebase();
  if (!storagePath) throw new Error(SKIP_NO_GCS_EMULATOR);
  const base = storagePath.replace(/storage[/\\]index\.js$/, '');
  const { StorageEmulator } = require(storagePath) as { StorageEmulator: new (args: object) => EmulatorInstance };
  const { createApp } = require(join(base, 'storage', 'server.js')) as { createApp: (project: string, emulator: EmulatorInstance) => Promise<ExpressApp> };
  const { EmulatorRegistry } = require(join(base, 'registry.js')) as { EmulatorRegistry: { set(name: string, instance: unknown): void } };
  const blobs = mkdtempSync(join(tmpdir(), 'kbb-gcs-emulator-'));
  // Its uploads would otherwise go to one folder shared by every emulator on the machine.
  class PrivateStorageEmulator extends StorageEmulator {
    override getPersistenceTmpDir(): string {
      return blobs;
    }
  }
  const args = { projectId: 'kbb-test', host: '127.0.0.1', port, auto_download: false };
  const emulator = new PrivateStorageEmulator(args);
  const app = await createApp('kbb-test', emulator);
  const server = await new Promise<HttpServer>((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  args.port = (server.address() as AddressInfo).port;
  // Object metadata carries download links built from the registered emulator's host and port.
  EmulatorRegistry.set('storage', emulator);
  return {
    host: `http://127.0.0.1:${args.port}`,
    port: args.port,
    stop: async () => {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(blobs, { recursive: true, force: true });
    },
  };
}

interface EmulatorInstance {
  getPersistenceTmpDir(): string;
}
interface HttpServer {
  address(): AddressInfo | string | null;
  close(callback: () => void): void;
  closeAllConnections?(): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface ExpressApp {
  listen(port: number, host: string, callback: () => void): HttpServer;
}

let bucketCounter = 0;

/** A bucket name no other test in this run uses (buckets are implicit in the emulator). */
export const uniqueBucket = (label: string): string => `kbb-${label}-${process.pid}-${++bucketCounter}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');

/**
 * One emulator for the calling test file: started before its tests (and before the file's own
 * beforeAll hooks registered after this call), with STORAGE_EMULATOR_HOST pointing at it, and
 * stopped after them. Without firebase-tools it says so once and starts nothing; the file's
 * Cloud Storage tests skip on `hasGcsEmulator`.
 */
export function setUpGcsEmulator(): { readonly host: () => string } {
  let emulator: GcsEmulator | undefined;
  if (!hasGcsEmulator) console.warn(`[kbb tests] ${SKIP_NO_GCS_EMULATOR}`);
  beforeAll(async () => {
    if (!hasGcsEmulator) return;
    emulator = await startGcsEmulator();
    process.env.STORAGE_EMULATOR_HOST = emulator.host;
  }, 60_000);
  afterAll(async () => {
    await emulator?.stop();
  });
  return {
    host: () => {
      if (!emulator) throw new Error('the Storage emulator is not running');
      return emulator.host;
    },
  };
}
