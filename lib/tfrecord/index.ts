export { bytesFeature, decodeExample, type Example, emptyFeature, encodeExample, type Feature, floatFeature, type Int64, int64Feature } from './example.js';
export { bytesValues, floatValues, int64Values } from './example-accessors.js';
export {
  countRecords,
  type ExampleStream,
  readExamples,
  readTfRecords,
  type TfRecord,
  type TfRecordCompression,
  type TfRecordReadOptions,
  type TfRecordStream,
} from './reader.js';
export { RecordFile, type RecordPointer } from './record-file.js';
export { TfRecordError, type TfRecordProblem } from './tfrecord-error.js';
export { frameTfRecord, type TfRecordWriteOptions, TfRecordWriter } from './writer.js';
