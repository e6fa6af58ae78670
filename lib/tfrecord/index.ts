export { bytesFeature, decodeExample, encodeExample, type Example, type Feature, floatFeature, floatValues, type Int64, int64Feature, int64Values } from './example.js';
export { maskedCrc32c } from './masked-crc32c.js';
export { readExamples, readTfRecords, type TfRecord, type TfRecordCompression, type TfRecordReadOptions, type TfRecordStream } from './reader.js';
export { TfRecordError } from './tfrecord-error.js';
export { TfRecordWriter, type TfRecordWriteOptions } from './writer.js';
