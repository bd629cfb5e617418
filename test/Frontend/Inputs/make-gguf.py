#!/usr/bin/env python3
"""Writes a small GGUF file for tests from a JSON description.

usage: make-gguf.py DESCRIPTION.json OUT.gguf

DESCRIPTION: {"version": 3,
              "metadata": [[key, type, value], ...],   type: u32, i32, f32,
                         bool, string, u64, f64, or "array:<type>"
              "tensors": [[name, [dims outermost first], ggml_type_id], ...],
              "truncate": bytes to cut from the end (optional),
              "magic": replacement magic (optional)}
Tensor data is zeros.
"""
import json
import struct
import sys

SCALARS = {"u8": (0, "<B"), "i8": (1, "<b"), "u16": (2, "<H"),
           "i16": (3, "<h"), "u32": (4, "<I"), "i32": (5, "<i"),
           "f32": (6, "<f"), "bool": (7, "<?"), "u64": (10, "<Q"),
           "i64": (11, "<q"), "f64": (12, "<d")}
TYPE_SIZES = {0: (1, 4), 1: (1, 2), 8: (32, 34), 30: (1, 2), 12: (256, 144)}


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(type_name, v):
    if type_name == "string":
        return struct.pack("<I", 8) + gguf_string(v)
    if type_name.startswith("array:"):
        elem = type_name[6:]
        out = struct.pack("<I", 9)
        out += struct.pack("<I", 8 if elem == "string" else SCALARS[elem][0])
        out += struct.pack("<Q", len(v))
        for x in v:
            out += gguf_string(x) if elem == "string" else \
                struct.pack(SCALARS[elem][1], x)
        return out
    tid, fmt = SCALARS[type_name]
    return struct.pack("<I", tid) + struct.pack(fmt, v)


def main():
    desc = json.load(open(sys.argv[1]))
    tensors = desc.get("tensors", [])
    out = desc.get("magic", "GGUF").encode()
    out += struct.pack("<IQQ", desc.get("version", 3), len(tensors),
                       len(desc.get("metadata", [])))
    for key, type_name, v in desc.get("metadata", []):
        out += gguf_string(key) + value(type_name, v)
    offset, sizes = 0, []
    for name, dims, ggml_type in tensors:
        block, size = TYPE_SIZES[ggml_type]
        n = 1
        for d in dims:
            n *= d
        nbytes = n // block * size
        out += gguf_string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in reversed(dims))
        out += struct.pack("<IQ", ggml_type, offset)
        sizes.append(nbytes)
        offset += (nbytes + 31) // 32 * 32
    out += b"\0" * ((32 - len(out) % 32) % 32)
    for nbytes in sizes:
        out += b"\0" * ((nbytes + 31) // 32 * 32)
    cut = desc.get("truncate", 0)
    if cut:
        out = out[:-cut]
    open(sys.argv[2], "wb").write(out)


if __name__ == "__main__":
    main()
