import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * The part of TensorFlow's `Event` (tensorflow/core/util/event.proto) that event files are read
 * for. The other kinds of event (a graph, a session log, run metadata) decode with neither
 * `fileVersion` nor `summary` set.
 */
export interface TfEvent {
  /** Seconds since the Unix epoch, with a fraction. */
  readonly wallTime: number;
  /** The global step (0 where unset). An int64 in the proto; no trainer comes near 2^53. */
  readonly step: number;
  /** Set on a file's first event only: `brain.Event:2`. */
  readonly fileVersion?: string;
  /** The values of the event's `Summary`, when it holds one. */
  readonly summary?: readonly SummaryValue[];
}

/** One `Summary.Value` (tensorflow/core/framework/summary.proto). Image, audio and histogram values decode with neither value set. */
export interface SummaryValue {
  readonly tag: string;
  /** `simple_value`, a float32: how TF1's `tf.summary.scalar` and the Estimator write scalars. */
  readonly simpleValue?: number;
  /** `tensor`: how TF2's summaries write everything, scalars included. */
  readonly tensor?: TensorProto;
  /** Which plugin the value is for. Writers usually set it on a tag's first value only. */
  readonly metadata?: SummaryMetadata;
}

/** `SummaryMetadata`, without its display name and description. */
export interface SummaryMetadata {
  /** `plugin_data.plugin_name`: `scalars`, `histograms`, `images`, `text`, … */
  readonly pluginName: string;
  /** `plugin_data.content`: the plugin's own serialized settings. */
  readonly pluginContent?: Uint8Array;
  /** `data_class`: 1 is `DATA_CLASS_SCALAR` (0, unknown, where unset). */
  readonly dataClass?: number;
}

/** A `TensorProto` with the fields a scalar summary uses; other value lists are skipped. */
export interface TensorProto {
  /** TensorFlow `DataType`: `DT_FLOAT` (1) and `DT_DOUBLE` (2) are the ones scalars use. */
  readonly dtype: number;
  /** Dimension sizes; empty for a scalar. */
  readonly shape: readonly number[];
  /** `tensor_content`: the values as raw little-endian bytes. */
  readonly content?: Uint8Array;
  /** `float_val`. */
  readonly floatVal?: readonly number[];
  /** `double_val`. */
  readonly doubleVal?: readonly number[];
}

export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;
export const DATA_CLASS_SCALAR = 1;
/** The `file_version` of every event file TensorFlow has written since 2016. */
export const EVENT_FILE_VERSION = 'brain.Event:2';

// Field numbers from event.proto, summary.proto, tensor.proto and tensor_shape.proto.
const EVENT_WALL_TIME = 1;
const EVENT_STEP = 2;
const EVENT_FILE_VERSION_FIELD = 3;
const EVENT_SUMMARY = 5;
const SUMMARY_VALUE = 1;
const VALUE_TAG = 1;
const VALUE_SIMPLE = 2;
const VALUE_TENSOR = 8;
const VALUE_METADATA = 9;
const METADATA_PLUGIN_DATA = 1;
const METADATA_DATA_CLASS = 4;
const PLUGIN_NAME = 1;
const PLUGIN_CONTENT = 2;
const TENSOR_DTYPE = 1;
const TENSOR_SHAPE = 2;
const TENSOR_CONTENT = 4;
const TENSOR_FLOAT_VAL = 5;
const TENSOR_DOUBLE_VAL = 6;
const SHAPE_DIM = 2;
const DIM_SIZE = 1;

/**
 * Serializes an Event as protobuf itself does: fields in number order, proto3 defaults left out
 * (but `simple_value`, a oneof member, always written, and a tensor's shape always present, as
 * TensorFlow sets it), so the bytes equal those of Python's `SerializeToString()`.
 * `simpleValue` is rounded to float32 here (a loss of 1e39 becomes Infinity, as a cast would).
 */
export function encodeEvent(event: TfEvent): Uint8Array {
  if (event.fileVersion !== undefined && event.summary !== undefined) throw new TypeError('an Event holds a file_version or a summary, not both');
  const writer = new BinaryWriter();
  if (event.wallTime !== 0) writer.tag(EVENT_WALL_TIME, WireType.Bit64).double(event.wallTime);
  if (event.step !== 0) writer.tag(EVENT_STEP, WireType.Varint).int64(event.step);
  if (event.fileVersion !== undefined) writer.tag(EVENT_FILE_VERSION_FIELD, WireType.LengthDelimited).string(event.fileVersion);
  if (event.summary !== undefined) {
    writer.tag(EVENT_SUMMARY, WireType.LengthDelimited).fork();
    for (const value of event.summary) writeValue(writer, value);
    writer.join();
  }
  return writer.finish();
}

function writeValue(writer: BinaryWriter, value: SummaryValue): void {
  if (value.simpleValue !== undefined && value.tensor !== undefined)
    throw new TypeError(`summary value ${JSON.stringify(value.tag)}: simple_value or tensor, not both`);
  writer.tag(SUMMARY_VALUE, WireType.LengthDelimited).fork();
  if (value.tag !== '') writer.tag(VALUE_TAG, WireType.LengthDelimited).string(value.tag);
  if (value.simpleValue !== undefined) writer.tag(VALUE_SIMPLE, WireType.Bit32).float(Math.fround(value.simpleValue));
  if (value.tensor !== undefined) {
    writer.tag(VALUE_TENSOR, WireType.LengthDelimited).fork();
    writeTensor(writer, value.tensor);
    writer.join();
  }
  if (value.metadata !== undefined) {
    const { pluginName, pluginContent, dataClass } = value.metadata;
    writer.tag(VALUE_METADATA, WireType.LengthDelimited).fork();
    writer.tag(METADATA_PLUGIN_DATA, WireType.LengthDelimited).fork();
    if (pluginName !== '') writer.tag(PLUGIN_NAME, WireType.LengthDelimited).string(pluginName);
    if (pluginContent !== undefined && pluginContent.length > 0) writer.tag(PLUGIN_CONTENT, WireType.LengthDelimited).bytes(pluginContent);
    writer.join();
    if (dataClass) writer.tag(METADATA_DATA_CLASS, WireType.Varint).int32(dataClass);
    writer.join();
  }
  writer.join();
}

function writeTensor(writer: BinaryWriter, tensor: TensorProto): void {
  if (tensor.dtype !== 0) writer.tag(TENSOR_DTYPE, WireType.Varint).int32(tensor.dtype);
  writer.tag(TENSOR_SHAPE, WireType.LengthDelimited).fork();
  for (const size of tensor.shape) {
    writer.tag(SHAPE_DIM, WireType.LengthDelimited).fork();
    if (size !== 0) writer.tag(DIM_SIZE, WireType.Varint).int64(size);
    writer.join();
  }
  writer.join();
  if (tensor.content !== undefined && tensor.content.length > 0) writer.tag(TENSOR_CONTENT, WireType.LengthDelimited).bytes(tensor.content);
  if (tensor.floatVal !== undefined && tensor.floatVal.length > 0) {
    writer.tag(TENSOR_FLOAT_VAL, WireType.LengthDelimited).fork();
    for (const v of tensor.floatVal) writer.float(Math.fround(v));
    writer.join();
  }
  if (tensor.doubleVal !== undefined && tensor.doubleVal.length > 0) {
    writer.tag(TENSOR_DOUBLE_VAL, WireType.LengthDelimited).fork();
    for (const v of tensor.doubleVal) writer.double(v);
    writer.join();
  }
}

/**
 * Decodes a serialized Event. Unknown fields, other kinds of event and other kinds of value are
 * skipped; repeated values and packed or unpacked number lists are read either way. Malformed bytes throw.
 */
export function decodeEvent(bytes: Uint8Array): TfEvent {
  const reader = new BinaryReader(bytes);
  let wallTime = 0;
  let step = 0;
  let fileVersion: string | undefined;
  let summary: SummaryValue[] | undefined;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === EVENT_WALL_TIME && wire === WireType.Bit64) wallTime = reader.double();
    else if (field === EVENT_STEP && wire === WireType.Varint) step = Number(reader.int64());
    else if (field === EVENT_FILE_VERSION_FIELD && wire === WireType.LengthDelimited) {
      fileVersion = reader.string();
      summary = undefined; // a oneof: the last member read wins
    } else if (field === EVENT_SUMMARY && wire === WireType.LengthDelimited) {
      // A repeated message field merges, so a second Summary's values are appended.
      summary = [...(summary ?? []), ...decodeSummary(reader.bytes())];
      fileVersion = undefined;
    } else if (field >= 4 && field <= 9) {
      // Another member of the `what` oneof (a graph, a session log…) replaces what was read before it.
      reader.skip(wire, field);
      fileVersion = undefined;
      summary = undefined;
    } else reader.skip(wire, field);
  }
  return { wallTime, step, ...(fileVersion !== undefined && { fileVersion }), ...(summary !== undefined && { summary }) };
}

function decodeSummary(bytes: Uint8Array): SummaryValue[] {
  const reader = new BinaryReader(bytes);
  const values: SummaryValue[] = [];
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === SUMMARY_VALUE && wire === WireType.LengthDelimited) values.push(decodeValue(reader.bytes()));
    else reader.skip(wire, field);
  }
  return values;
}

function decodeValue(bytes: Uint8Array): SummaryValue {
  const reader = new BinaryReader(bytes);
  let tag = '';
  let simpleValue: number | undefined;
  let tensor: TensorProto | undefined;
  let metadata: SummaryMetadata | undefined;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === VALUE_TAG && wire === WireType.LengthDelimited) tag = reader.string();
    else if (field === VALUE_SIMPLE && wire === WireType.Bit32) {
      simpleValue = reader.float();
      tensor = undefined;
    } else if (field === VALUE_TENSOR && wire === WireType.LengthDelimited) {
      tensor = decodeTensor(reader.bytes());
      simpleValue = undefined;
    } else if (field === VALUE_METADATA && wire === WireType.LengthDelimited) metadata = decodeMetadata(reader.bytes());
    else if (field >= 3 && field <= 6) {
      // Another member of the `value` oneof (a histogram, an image…) replaces a number read before it.
      reader.skip(wire, field);
      simpleValue = undefined;
      tensor = undefined;
    } else reader.skip(wire, field);
  }
  return { tag, ...(simpleValue !== undefined && { simpleValue }), ...(tensor !== undefined && { tensor }), ...(metadata !== undefined && { metadata }) };
}

function decodeMetadata(bytes: Uint8Array): SummaryMetadata {
  const reader = new BinaryReader(bytes);
  let pluginName = '';
  let pluginContent: Uint8Array | undefined;
  let dataClass = 0;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === METADATA_PLUGIN_DATA && wire === WireType.LengthDelimited) {
      const plugin = new BinaryReader(reader.bytes());
      while (plugin.pos < plugin.len) {
        const [f, w] = plugin.tag();
        if (f === PLUGIN_NAME && w === WireType.LengthDelimited) pluginName = plugin.string();
        else if (f === PLUGIN_CONTENT && w === WireType.LengthDelimited) pluginContent = new Uint8Array(plugin.bytes());
        else plugin.skip(w, f);
      }
    } else if (field === METADATA_DATA_CLASS && wire === WireType.Varint) dataClass = reader.int32();
    else reader.skip(wire, field);
  }
  return { pluginName, ...(pluginContent !== undefined && { pluginContent }), ...(dataClass !== 0 && { dataClass }) };
}

function decodeTensor(bytes: Uint8Array): TensorProto {
  const reader = new BinaryReader(bytes);
  let dtype = 0;
  let shape: number[] = [];
  let content: Uint8Array | undefined;
  const floatVal: number[] = [];
  const doubleVal: number[] = [];
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === TENSOR_DTYPE && wire === WireType.Varint) dtype = reader.int32();
    else if (field === TENSOR_SHAPE && wire === WireType.LengthDelimited) shape = decodeShape(reader.bytes());
    else if (field === TENSOR_CONTENT && wire === WireType.LengthDelimited) content = new Uint8Array(reader.bytes());
    else if (field === TENSOR_FLOAT_VAL && wire === WireType.Bit32) floatVal.push(reader.float());
    else if (field === TENSOR_FLOAT_VAL && wire === WireType.LengthDelimited) {
      const packed = new BinaryReader(reader.bytes());
      while (packed.pos < packed.len) floatVal.push(packed.float());
    } else if (field === TENSOR_DOUBLE_VAL && wire === WireType.Bit64) doubleVal.push(reader.double());
    else if (field === TENSOR_DOUBLE_VAL && wire === WireType.LengthDelimited) {
      const packed = new BinaryReader(reader.bytes());
      while (packed.pos < packed.len) doubleVal.push(packed.double());
    } else reader.skip(wire, field);
  }
  return {
    dtype,
    shape,
    ...(content !== undefined && { content }),
    ...(floatVal.length > 0 && { floatVal }),
    ...(doubleVal.length > 0 && { doubleVal }),
  };
}

/** TensorShapeProto: repeated `dim { size }`; a dim's name is ignored. */
function decodeShape(bytes: Uint8Array): number[] {
  const reader = new BinaryReader(bytes);
  const dims: number[] = [];
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === SHAPE_DIM && wire === WireType.LengthDelimited) {
      const dim = new BinaryReader(reader.bytes());
      let size = 0;
      while (dim.pos < dim.len) {
        const [f, w] = dim.tag();
        if (f === DIM_SIZE && w === WireType.Varint) size = Number(dim.int64());
        else dim.skip(w, f);
      }
      dims.push(size);
    } else reader.skip(wire, field);
  }
  return dims;
}

/**
 * The number a one-element float or double tensor holds, or undefined for any other tensor. A
 * tensor with no values at all holds zero, as TensorFlow's `Tensor::FromProto` fills it; one with
 * fewer content bytes than its dtype needs is not a scalar.
 */
export function tensorScalarValue(tensor: TensorProto): number | undefined {
  if (tensor.shape.reduce((n, size) => n * size, 1) !== 1) return undefined;
  const content = tensor.content;
  if (tensor.dtype === DT_FLOAT) {
    if (content !== undefined) return content.length === 4 ? new DataView(content.buffer, content.byteOffset, 4).getFloat32(0, true) : undefined;
    return tensor.floatVal?.[0] ?? 0;
  }
  if (tensor.dtype === DT_DOUBLE) {
    if (content !== undefined) return content.length === 8 ? new DataView(content.buffer, content.byteOffset, 8).getFloat64(0, true) : undefined;
    return tensor.doubleVal?.[0] ?? 0;
  }
  return undefined;
}
