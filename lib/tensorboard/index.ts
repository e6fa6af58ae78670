export {
  addScalarPoint,
  type EventReadOptions,
  type EventRecord,
  type EventStream,
  eventFiles,
  readEvents,
  readNewScalars,
  readScalarSeries,
  readScalars,
  type ScalarPoint,
  type ScalarReadOptions,
  type ScalarUpdate,
  scalarPoints,
} from './event-file-reader.js';
export { EventFileWriter, type EventFileWriterOptions, REMOTE_FLUSH_SECONDS } from './event-file-writer.js';
export {
  DATA_CLASS_SCALAR,
  DT_DOUBLE,
  DT_FLOAT,
  decodeEvent,
  EVENT_FILE_VERSION,
  encodeEvent,
  type SummaryMetadata,
  type SummaryValue,
  type TensorProto,
  type TfEvent,
  tensorScalarValue,
} from './event-proto.js';
