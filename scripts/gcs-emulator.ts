import { parseArgs } from 'node:util';
import { startGcsEmulator } from '../test/helpers/gcs-emulator.js';

// `npm run gcs:emulator -- --port 9199`: the Cloud Storage emulator the test suite uses, for trying
// kbb's gs:// paths by hand. Any bucket name works; objects live until it stops (Ctrl-C).
const { values } = parseArgs({ options: { port: { type: 'string', default: '9199' } } });
const emulator = await startGcsEmulator(Number(values.port));
console.log(`Cloud Storage emulator listening on ${emulator.host}`);
console.log(`In another shell:  export STORAGE_EMULATOR_HOST=${emulator.host}`);
console.log('then any gs://BUCKET/... path works with kbb (buckets are created on first write). Ctrl-C stops it.');
const stop = (): void => {
  void emulator.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
