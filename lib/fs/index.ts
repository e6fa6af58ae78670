export { type AtomicWriteOptions, temporaryPath, writeBytesAtomically, writeFileAtomically } from './atomic-write.js';
