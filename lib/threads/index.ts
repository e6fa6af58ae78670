export { type BundleRecord, reusableBundle, workerScript } from './worker-script.js';
