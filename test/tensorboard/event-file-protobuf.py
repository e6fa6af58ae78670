"""Reads and writes TensorBoard event files with Python's own protobuf library, independently of kbb.

  event-file-protobuf.py decode PATH   prints every record of PATH as JSON
  event-file-protobuf.py write PATH    writes a TF1/TF2-style event file, prints the scalars it holds

The message classes come from a FileDescriptorProto built here with the field numbers and types of
tensorflow/core/util/event.proto, framework/summary.proto, tensor.proto and tensor_shape.proto (only
the messages and fields that event files of scalars use). The TFRecord framing is parsed with struct
and every masked CRC-32C checked with the pure-Python CRC below.
"""

import json
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


def add_field(message, name, number, ftype, type_name=None, repeated=False, oneof=None):
    field = message.field.add(name=name, number=number, type=ftype)
    field.label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
    if type_name:
        field.type_name = type_name
    if oneof is not None:
        field.oneof_index = oneof


def add_enum(container, name, values):
    enum = container.enum_type.add(name=name)
    for value_name, number in values:
        enum.value.add(name=value_name, number=number)


def build_classes():
    proto = descriptor_pb2.FileDescriptorProto(name="kbb_test/event.proto", package="tensorflow", syntax="proto3")
    add_enum(proto, "DataType", [("DT_INVALID", 0), ("DT_FLOAT", 1), ("DT_DOUBLE", 2), ("DT_INT32", 3), ("DT_STRING", 7)])
    add_enum(proto, "DataClass", [("DATA_CLASS_UNKNOWN", 0), ("DATA_CLASS_SCALAR", 1), ("DATA_CLASS_TENSOR", 2), ("DATA_CLASS_BLOB_SEQUENCE", 3)])

    shape = proto.message_type.add(name="TensorShapeProto")
    dim = shape.nested_type.add(name="Dim")
    add_field(dim, "size", 1, F.TYPE_INT64)
    add_field(dim, "name", 2, F.TYPE_STRING)
    add_field(shape, "dim", 2, F.TYPE_MESSAGE, ".tensorflow.TensorShapeProto.Dim", repeated=True)
    add_field(shape, "unknown_rank", 3, F.TYPE_BOOL)

    tensor = proto.message_type.add(name="TensorProto")
    add_field(tensor, "dtype", 1, F.TYPE_ENUM, ".tensorflow.DataType")
    add_field(tensor, "tensor_shape", 2, F.TYPE_MESSAGE, ".tensorflow.TensorShapeProto")
    add_field(tensor, "version_number", 3, F.TYPE_INT32)
    add_field(tensor, "tensor_content", 4, F.TYPE_BYTES)
    add_field(tensor, "float_val", 5, F.TYPE_FLOAT, repeated=True)
    add_field(tensor, "double_val", 6, F.TYPE_DOUBLE, repeated=True)
    add_field(tensor, "int_val", 7, F.TYPE_INT32, repeated=True)
    add_field(tensor, "string_val", 8, F.TYPE_BYTES, repeated=True)
    add_field(tensor, "int64_val", 10, F.TYPE_INT64, repeated=True)
    add_field(tensor, "half_val", 13, F.TYPE_INT32, repeated=True)

    histogram = proto.message_type.add(name="HistogramProto")
    for number, name in enumerate(["min", "max", "num", "sum", "sum_squares"], start=1):
        add_field(histogram, name, number, F.TYPE_DOUBLE)
    add_field(histogram, "bucket_limit", 6, F.TYPE_DOUBLE, repeated=True)
    add_field(histogram, "bucket", 7, F.TYPE_DOUBLE, repeated=True)

    metadata = proto.message_type.add(name="SummaryMetadata")
    plugin = metadata.nested_type.add(name="PluginData")
    add_field(plugin, "plugin_name", 1, F.TYPE_STRING)
    add_field(plugin, "content", 2, F.TYPE_BYTES)
    add_field(metadata, "plugin_data", 1, F.TYPE_MESSAGE, ".tensorflow.SummaryMetadata.PluginData")
    add_field(metadata, "display_name", 2, F.TYPE_STRING)
    add_field(metadata, "summary_description", 3, F.TYPE_STRING)
    add_field(metadata, "data_class", 4, F.TYPE_ENUM, ".tensorflow.DataClass")

    summary = proto.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.oneof_decl.add(name="value")
    add_field(value, "node_name", 7, F.TYPE_STRING)
    add_field(value, "tag", 1, F.TYPE_STRING)
    add_field(value, "metadata", 9, F.TYPE_MESSAGE, ".tensorflow.SummaryMetadata")
    add_field(value, "simple_value", 2, F.TYPE_FLOAT, oneof=0)
    add_field(value, "obsolete_old_style_histogram", 3, F.TYPE_BYTES, oneof=0)
    add_field(value, "histo", 5, F.TYPE_MESSAGE, ".tensorflow.HistogramProto", oneof=0)
    add_field(value, "tensor", 8, F.TYPE_MESSAGE, ".tensorflow.TensorProto", oneof=0)
    add_field(summary, "value", 1, F.TYPE_MESSAGE, ".tensorflow.Summary.Value", repeated=True)

    session_log = proto.message_type.add(name="SessionLog")
    add_enum(session_log, "SessionStatus", [("STATUS_UNSPECIFIED", 0), ("START", 1), ("STOP", 2), ("CHECKPOINT", 3)])
    add_field(session_log, "status", 1, F.TYPE_ENUM, ".tensorflow.SessionLog.SessionStatus")
    add_field(session_log, "checkpoint_path", 2, F.TYPE_STRING)
    add_field(session_log, "msg", 3, F.TYPE_STRING)

    source = proto.message_type.add(name="SourceMetadata")
    add_field(source, "writer", 1, F.TYPE_STRING)

    event = proto.message_type.add(name="Event")
    event.oneof_decl.add(name="what")
    add_field(event, "wall_time", 1, F.TYPE_DOUBLE)
    add_field(event, "step", 2, F.TYPE_INT64)
    add_field(event, "file_version", 3, F.TYPE_STRING, oneof=0)
    add_field(event, "graph_def", 4, F.TYPE_BYTES, oneof=0)
    add_field(event, "summary", 5, F.TYPE_MESSAGE, ".tensorflow.Summary", oneof=0)
    add_field(event, "session_log", 7, F.TYPE_MESSAGE, ".tensorflow.SessionLog", oneof=0)
    add_field(event, "meta_graph_def", 9, F.TYPE_BYTES, oneof=0)
    add_field(event, "source_metadata", 10, F.TYPE_MESSAGE, ".tensorflow.SourceMetadata")

    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(proto.SerializeToString())

    def message_class(name):
        descriptor = pool.FindMessageTypeByName("tensorflow." + name)
        if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)

    return message_class("Event"), message_class("SessionLog")


Event, SessionLog = build_classes()


def read_records(data):
    """Complete records and whether the file ends inside one; any CRC mismatch is an error."""
    records, at = [], 0
    while at < len(data):
        if len(data) - at < 12:
            return records, True
        header = data[at : at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[at + 8 : at + 12])
        assert length_crc == masked_crc32c(header), f"length CRC mismatch at byte {at}"
        if len(data) - at < 12 + length + 4:
            return records, True
        payload = data[at + 12 : at + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[at + 12 + length : at + 16 + length])
        assert payload_crc == masked_crc32c(payload), f"data CRC mismatch at byte {at}"
        records.append(payload)
        at += 16 + length
    return records, False


def frame(payload):
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc32c(header)) + payload + struct.pack("<I", masked_crc32c(payload))


def decode(path):
    with open(path, "rb") as f:
        payloads, truncated = read_records(f.read())
    events = []
    for payload in payloads:
        event = Event.FromString(payload)
        values = []
        if event.WhichOneof("what") == "summary":
            for value in event.summary.value:
                kind = value.WhichOneof("value")
                values.append({"tag": value.tag, "kind": kind, "simple_value": value.simple_value if kind == "simple_value" else None})
        events.append(
            {
                "wall_time": event.wall_time,
                "step": event.step,
                "what": event.WhichOneof("what"),
                "file_version": event.file_version,
                "values": values,
                # protobuf's own serialization of what it parsed: equal bytes mean kbb encodes canonically.
                "canonical": event.SerializeToString(deterministic=True) == payload,
            }
        )
    print(json.dumps({"truncated": truncated, "events": events}))


def write(path):
    """A file as TF2's tf.summary and TF1's Estimator write them, with other kinds of event mixed in."""
    records, expected = [], []

    def add(event, extra=b""):
        records.append(frame(event.SerializeToString() + extra))

    def scalar_tensor(value, tag, step, wall_time, dtype, form, metadata):
        event = Event(wall_time=wall_time, step=step)
        v = event.summary.value.add(tag=tag)
        v.tensor.dtype = dtype
        v.tensor.tensor_shape.SetInParent()  # a scalar: a shape with no dims
        if form == "val":
            (v.tensor.float_val if dtype == 1 else v.tensor.double_val).append(value)
        else:
            v.tensor.tensor_content = struct.pack("<f" if dtype == 1 else "<d", value)
        if metadata:
            v.metadata.plugin_data.plugin_name = "scalars"
            v.metadata.data_class = 1
        add(event)
        read_back = struct.unpack("<f", struct.pack("<f", value))[0] if dtype == 1 else value
        expected.append({"tag": tag, "step": step, "wallTime": wall_time, "value": read_back})

    first = Event(wall_time=1700000000.5, file_version="brain.Event:2")
    first.source_metadata.writer = "tensorflow.core.util.events_writer"
    add(first)
    graph = Event(wall_time=1700000000.75, graph_def=b"\x0a\x03abc")
    add(graph)
    # TF2: float32 tensors, metadata on a tag's first value only, float_val or tensor_content.
    scalar_tensor(0.75, "loss", 1, 1700000001.25, 1, "val", True)
    scalar_tensor(0.1, "loss", 2, 1700000002.25, 1, "content", False)
    scalar_tensor(1e-4, "learning_rate", 1, 1700000001.5, 2, "val", True)
    scalar_tensor(2.5e-5, "learning_rate", 2, 1700000002.5, 2, "content", False)
    # A histogram, and a one-float tensor that belongs to another plugin: neither is a scalar.
    histo = Event(wall_time=1700000003.0, step=3)
    hv = histo.summary.value.add(tag="weights")
    hv.histo.min, hv.histo.max, hv.histo.num = -1.0, 1.0, 10.0
    add(histo)
    other = Event(wall_time=1700000003.0, step=3)
    ov = other.summary.value.add(tag="custom/thing")
    ov.tensor.dtype = 1
    ov.tensor.float_val.append(7.0)
    ov.metadata.plugin_data.plugin_name = "custom_plugin"
    add(other)
    # TF1 Estimator: one merged Summary of simple_values; a field number no proto has is appended.
    merged = Event(wall_time=1700000004.0, step=4)
    for tag, value in (("global_step/sec", 12.345), ("loss", 0.0625)):
        merged.summary.value.add(tag=tag, simple_value=value)
        expected.append({"tag": tag, "step": 4, "wallTime": 1700000004.0, "value": struct.unpack("<f", struct.pack("<f", value))[0]})
    add(merged, extra=b"\x98\x06\x2a")  # field 99, varint 42
    restart = Event(wall_time=1700000005.0, step=4)
    restart.session_log.status = SessionLog.START
    add(restart)
    data = b"".join(records)
    cut = frame(Event(wall_time=1700000006.0, step=5, file_version="x").SerializeToString())
    with open(path, "wb") as f:
        f.write(data + cut[: len(cut) - 3])  # a record cut short, as a killed writer leaves it
    print(json.dumps(expected))


if __name__ == "__main__":
    {"decode": decode, "write": write}[sys.argv[1]](sys.argv[2])
