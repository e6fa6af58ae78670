export { type AtomicWriteOptions, temporaryPath, writeBytesAtomically, writeFileAtomically } from './atomic-write.js';
export { copyFile } from './copy-file.js';
export type { AppendableFile, AtomicWriteStream, DirectoryEntry, FileInfo, FileSystem, ReadStreamOptions, WriteOptions } from './file-system.js';
export {
  fileSystemFor,
  METADATA_REQUESTS_IN_FLIGHT,
  pathExists,
  readFileAt,
  readOptionalFile,
  readOptionalText,
  readTextFile,
  writeFileAt,
} from './file-system-for.js';
export { crc32cBase64, gcsFileSystem } from './gcs-file-system.js';
export { asPrefix, formatGcsPath, GCS_SCHEME, type GcsLocation, isGcsPath, joinGcsPath, parseGcsPath } from './gcs-path.js';
export { InputError } from './input-error.js';
export { localFileSystem } from './local-file-system.js';
export { joinInside, type NameSource, type NameSourceOrWhat, pathInside } from './path-inside.js';
export { baseName, isAbsolutePath, joinPath, parentPath, relativePath } from './paths.js';
export { isProcessAlive } from './process-alive.js';
export { openRangedFile, type RangedFile } from './ranged-file.js';
export { type StagedOutput, stageOutput } from './staged-output.js';
export { StorageError, storageError } from './storage-error.js';
export { type ByteSink, writeFileStreamed, writeToStream } from './streamed-write.js';
