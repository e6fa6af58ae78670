import { createRequire } from 'node:module';

// @node-rs/crc32 is a CommonJS package. Imported from an ES module, Node first scans its 29 KB
// platform loader for export names with its JavaScript lexer, which V8 then compiles with TurboFan:
// tens of milliseconds in every thread that imports it (each pretraining worker, each notebook
// kernel). A require() of the same package skips the scan.
const native = createRequire(import.meta.url)('@node-rs/crc32') as typeof import('@node-rs/crc32');

/** CRC-32C (Castagnoli), as TFRecord framing and TensorFlow checkpoints use it. */
export const crc32c: (input: Uint8Array, initialState?: number) => number = native.crc32c;

/** CRC-32 (IEEE), as zip archives use it. */
export const crc32: (input: Uint8Array, initialState?: number) => number = native.crc32;
