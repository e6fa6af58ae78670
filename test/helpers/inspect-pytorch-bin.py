"""Reads a torch.save-style zip archive without torch, the way torch.load(weights_only=True) would.

Usage: python3 inspect-pytorch-bin.py ARCHIVE [--zip-only]

Checks what only Python's own readers can vouch for (zipfile: CRCs and structure; pickletools: a
valid pickle; a pickle.Unpickler allowing only the globals torch's weights_only unpickler allows)
and prints JSON facts for the test to compare with what it wrote. Any failed check exits 1 with the
reason on stderr. With --zip-only it lists the entries and stops (for archives that are not torch's).
"""

import collections
import hashlib
import io
import json
import pickle
import pickletools
import struct
import sys
import zipfile

import numpy as np

ALIGNMENT = 64

# Storage class -> (safetensors dtype, numpy dtype of its raw little-endian elements).
# numpy has no bfloat16, so BF16 is read as its raw 16-bit patterns: the bytes are what is compared.
STORAGES = {
    "DoubleStorage": ("F64", "<f8"),
    "FloatStorage": ("F32", "<f4"),
    "HalfStorage": ("F16", "<f2"),
    "BFloat16Storage": ("BF16", "<u2"),
    "LongStorage": ("I64", "<i8"),
    "IntStorage": ("I32", "<i4"),
    "ShortStorage": ("I16", "<i2"),
    "CharStorage": ("I8", "i1"),
    "ByteStorage": ("U8", "u1"),
    "BoolStorage": ("BOOL", "?"),
}

# The opcodes torch/_weights_only_unpickler.py implements; anything else makes torch.load refuse the file.
WEIGHTS_ONLY_OPCODES = {
    "PROTO", "STOP", "GLOBAL", "NEWOBJ", "REDUCE", "BUILD", "APPEND", "APPENDS", "SETITEM", "SETITEMS",
    "MARK", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "NONE", "NEWFALSE", "NEWTRUE", "EMPTY_TUPLE",
    "EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET", "BININT", "BININT1", "BININT2", "BINFLOAT", "BINUNICODE",
    "SHORT_BINSTRING", "BINPERSID", "BINGET", "LONG_BINGET", "BINPUT", "LONG_BINPUT", "LONG1",
}


def fail(message):
    sys.stderr.write(message + "\n")
    sys.exit(1)


def list_entries(archive, raw):
    entries = []
    for info in archive.infolist():
        header = raw[info.header_offset:info.header_offset + 30]
        signature, = struct.unpack("<I", header[:4])
        if signature != 0x04034B50:
            fail(f"{info.filename}: no local header at offset {info.header_offset}")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        extra = raw[info.header_offset + 30 + name_length:info.header_offset + 30 + name_length + extra_length]
        data_offset = info.header_offset + 30 + name_length + extra_length
        content = archive.read(info)
        if raw[data_offset:data_offset + len(content)] != content:
            fail(f"{info.filename}: the bytes at the data offset {data_offset} are not the entry's content")
        entries.append({
            "name": info.filename,
            "size": info.file_size,
            "compressed": info.compress_type != zipfile.ZIP_STORED,
            "headerOffset": info.header_offset,
            "dataOffset": data_offset,
            "localExtra": extra.hex(),
            "sha256": hashlib.sha256(content).hexdigest(),
        })
    return entries


def check_padding_field(entry):
    """The local extra field ends with torch's padding record: b'FB', a 16-bit length, that many b'Z'."""
    extra = bytes.fromhex(entry["localExtra"])
    at = 0
    while at < len(extra):
        tag, length = struct.unpack("<HH", extra[at:at + 4])
        body = extra[at + 4:at + 4 + length]
        if len(body) != length:
            fail(f"{entry['name']}: extra field {tag:#06x} runs past the end of the extra data")
        if extra[at:at + 2] == b"FB":
            if body != b"Z" * length or at + 4 + length != len(extra):
                fail(f"{entry['name']}: the FB padding field is not {length} 'Z' bytes at the end of the extra data")
            return
        at += 4 + length
    fail(f"{entry['name']}: no FB padding field in the local header's extra data")


class StorageClass:
    def __init__(self, name):
        self.name = name
        self.dtype, self.numpy_dtype = STORAGES[name]


class Storage:
    def __init__(self, key, storage_class, elements):
        self.key = key
        self.storage_class = storage_class
        self.elements = elements


class Tensor:
    def __init__(self, storage, storage_offset, size, stride):
        self.storage = storage
        self.size = size
        self.stride = stride
        itemsize = storage.elements.itemsize
        if any(dim == 0 for dim in size):
            values = np.zeros(size, dtype=storage.elements.dtype)
        else:
            last = storage_offset + sum((dim - 1) * step for dim, step in zip(size, stride))
            if storage_offset < 0 or last >= len(storage.elements):
                fail(f"tensor view (offset {storage_offset}, size {size}, stride {stride}) reaches past storage {storage.key} of {len(storage.elements)} elements")
            values = np.lib.stride_tricks.as_strided(
                storage.elements[storage_offset:], shape=size, strides=[step * itemsize for step in stride], writeable=False)
        self.bytes = np.ascontiguousarray(values).tobytes()


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    if not isinstance(storage, Storage):
        fail(f"_rebuild_tensor_v2 got {type(storage).__name__} for the storage, not a persistent-load storage")
    for label, value in (("size", size), ("stride", stride)):
        if type(value) is not tuple or not all(type(v) is int for v in value):
            fail(f"_rebuild_tensor_v2 got {label} {value!r}, not a tuple of ints")
    if len(size) != len(stride):
        fail(f"_rebuild_tensor_v2 got size {size} and stride {stride} of different lengths")
    if type(storage_offset) is not int or requires_grad is not False:
        fail(f"_rebuild_tensor_v2 got storage_offset {storage_offset!r} and requires_grad {requires_grad!r}")
    if type(backward_hooks) is not collections.OrderedDict or backward_hooks:
        fail(f"_rebuild_tensor_v2 got backward_hooks {backward_hooks!r}, not an empty OrderedDict")
    if metadata is not None:
        fail(f"_rebuild_tensor_v2 got metadata {metadata!r}")
    return Tensor(storage, storage_offset, size, stride)


class WeightsOnlyUnpickler(pickle.Unpickler):
    """Allows only what a plain state dict needs, as torch's weights_only unpickler does (and no more)."""

    def __init__(self, data, archive, prefix):
        super().__init__(io.BytesIO(data))
        self.archive = archive
        self.prefix = prefix
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if module == "torch" and name in STORAGES:
            return StorageClass(name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")

    def persistent_load(self, pid):
        if type(pid) is not tuple or len(pid) != 5 or pid[0] != "storage":
            fail(f"persistent id {pid!r} is not ('storage', class, key, location, numel)")
        _, storage_class, key, location, numel = pid
        if not isinstance(storage_class, StorageClass) or type(key) is not str or location != "cpu" or type(numel) is not int or numel < 0:
            fail(f"persistent id {pid!r} is not ('storage', torch.<X>Storage, str key, 'cpu', int numel)")
        if key in self.storages:
            known = self.storages[key]
            if known.storage_class.name != storage_class.name or len(known.elements) != numel:
                fail(f"storage {key} is loaded as {known.storage_class.name}[{len(known.elements)}] and as {storage_class.name}[{numel}]")
            return known
        raw = self.archive.read(f"{self.prefix}data/{key}")
        elements = np.frombuffer(raw, dtype=storage_class.numpy_dtype)
        if len(raw) != numel * elements.itemsize:
            fail(f"storage {key} is {len(raw)} bytes, but {storage_class.name} of {numel} elements needs {numel * elements.itemsize}")
        self.storages[key] = Storage(key, storage_class, elements)
        return self.storages[key]


def main():
    path = sys.argv[1]
    zip_only = "--zip-only" in sys.argv[2:]
    with open(path, "rb") as file:
        raw = file.read()
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
        if bad is not None:
            fail(f"{bad}: CRC or header check failed")
        entries = list_entries(archive, raw)
        if zip_only:
            print(json.dumps({"entries": entries}))
            return

        for entry in entries:
            if entry["compressed"]:
                fail(f"{entry['name']}: compressed (torch stores every record)")
            if entry["dataOffset"] % ALIGNMENT != 0:
                fail(f"{entry['name']}: data starts at {entry['dataOffset']}, not a multiple of {ALIGNMENT}")
            check_padding_field(entry)
        prefix = entries[0]["name"].split("/")[0] + "/"
        data = archive.read(prefix + "data.pkl")

        listing = io.StringIO()
        pickletools.dis(data, out=listing)
        opcodes = set()
        global_names = set()
        protocol = None
        for opcode, argument, _ in pickletools.genops(data):
            opcodes.add(opcode.name)
            if opcode.name == "PROTO":
                protocol = argument
            if opcode.name == "GLOBAL":
                global_names.add(argument.replace(" ", "."))
        if protocol != 2:
            fail(f"data.pkl is pickle protocol {protocol}, not 2 (what torch.save writes)")
        refused = opcodes - WEIGHTS_ONLY_OPCODES
        if refused:
            fail(f"data.pkl uses opcodes torch's weights_only unpickler refuses: {sorted(refused)}")

        unpickler = WeightsOnlyUnpickler(data, archive, prefix)
        state_dict = unpickler.load()
        if type(state_dict) is not collections.OrderedDict:
            fail(f"data.pkl holds a {type(state_dict).__name__}, not an OrderedDict")
        tensors = []
        for name, tensor in state_dict.items():
            if not isinstance(tensor, Tensor):
                fail(f"{name!r} maps to a {type(tensor).__name__}, not a tensor")
            tensors.append({
                "name": name,
                "dtype": tensor.storage.storage_class.dtype,
                "shape": list(tensor.size),
                "stride": list(tensor.stride),
                "storageKey": tensor.storage.key,
                "sha256": hashlib.sha256(tensor.bytes).hexdigest(),
            })
        print(json.dumps({
            "entries": entries,
            "byteorder": archive.read(prefix + "byteorder").decode("ascii"),
            "version": archive.read(prefix + "version").decode("ascii"),
            "globals": sorted(global_names),
            "opcodes": sorted(opcodes),
            "storagesLoaded": sorted(unpickler.storages, key=int),
            "tensors": tensors,
        }))


main()
