"""safetensors files by hand (the format's rules, no library), shared by the reference scripts.

A file: u64 LE header length, then a compact JSON header with "__metadata__" (string -> string)
first and each tensor's dtype, shape and data_offsets, padded with spaces to a multiple of 8, then
the tensors' bytes tiling the rest of the file with no hole, overlap or trailing byte.
"""
import json
import struct

import numpy as np

# Storage dtype of each safetensors dtype tag (BF16 kept as its raw bits).
NUMPY = {"F32": "<f4", "BF16": "<u2", "F16": "<f2", "I8": "i1", "U8": "u1", "U16": "<u2",
         "I16": "<i2", "I32": "<i4", "U32": "<u4", "F64": "<f8", "I64": "<i8", "U64": "<u8"}
SIZE = {k: np.dtype(v).itemsize for k, v in NUMPY.items()}


def write(path, tensors, metadata):
    """tensors: (name, dtype tag, shape, array) in the order their bytes are written; each caller
    chooses its order. Arrays are converted to the tag's storage dtype."""
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    header = {"__metadata__": metadata}
    blobs, pos = [], 0
    for name, dtype, shape, arr in tensors:
        data = np.ascontiguousarray(arr, dtype=NUMPY[dtype]).tobytes()
        assert len(data) == int(np.prod(shape, dtype=np.int64)) * SIZE[dtype], name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [pos, pos + len(data)]}
        blobs.append(data)
        pos += len(data)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read(path):
    """Reads and validates: the header's form, tiling without holes or overlaps, sizes, no trailing
    bytes. Returns (metadata, {name: array with its shape}, {name: dtype tag})."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    assert hlen % 8 == 0, "header not padded to 8"
    htext = raw[8:8 + hlen]
    assert htext[:1] == b"{"
    header = json.loads(htext.decode("utf-8"))
    assert list(header.keys())[0] == "__metadata__", "__metadata__ must come first"
    metadata = header.pop("__metadata__")
    assert all(isinstance(v, str) for v in metadata.values())
    buf = raw[8 + hlen:]
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    end = 0
    arrays, dtypes = {}, {}
    for name, info in entries:
        s, e = info["data_offsets"]
        assert s == end, "hole or overlap at " + name
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert e - s == count * SIZE[info["dtype"]], "size mismatch at " + name
        arrays[name] = np.frombuffer(buf[s:e], dtype=NUMPY[info["dtype"]]).reshape(info["shape"])
        dtypes[name] = info["dtype"]
        end = e
    assert end == len(buf), "trailing bytes"
    return metadata, arrays, dtypes
