#!/usr/bin/env python3
"""Generates the tiny binary fixtures of Tests/RecAlignFormatsTests/Fixtures with numpy and safetensors,
so the Swift readers / writers are checked against bytes the reference libraries produce.

Usage: python3 Scripts/make_formats_fixtures.py   (needs numpy and `pip install safetensors`)
"""
import json
import os
import struct

import numpy as np
from safetensors.numpy import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "RecAlignFormatsTests", "Fixtures")


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def npy(name, arr):
    np.save(os.path.join(OUT, name), arr)


def main():
    os.makedirs(OUT, exist_ok=True)
    # .npy: numpy.save output for the arrays the Swift tests rebuild from the same formulas.
    npy("f32_2x3.npy", (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.0).astype(np.float32))
    npy("i32_5.npy", np.array([-2, -1, 0, 1, 2147483647], dtype=np.int32))
    npy("i64_2x2x2.npy", (np.arange(8, dtype=np.int64) * 1_000_000_000_000 - 3).reshape(2, 2, 2))
    npy("f32_scalar.npy", np.array(3.5, dtype=np.float32))
    # A shape whose header is already 64-aligned before padding: numpy then pads a full 64 bytes.
    # 14-d shape (1, ..., 1, 100): dict 117 bytes + '\n' + 10 prefix bytes = 128 exactly.
    shape = (1,) * 13 + (100,)
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (shape,)
    hdr += " " * (21 - len(repr(shape[0])))
    assert (10 + len(hdr) + 1) % 64 == 0, (10 + len(hdr) + 1)
    npy("f32_pad64.npy", (np.arange(100, dtype=np.float32) / 4.0).reshape(shape))

    # safetensors written by the reference library: all-F32 so key order = sorted order (Swift writer must match).
    a = np.array([0.5, -1.25, 3.0], dtype=np.float32)
    b = (np.arange(6, dtype=np.float32).reshape(2, 3) / 8.0 - 0.25).astype(np.float32)
    write("python_f32.safetensors", save({"b.weight": b, "a.bias": a}, metadata={"format": "pt"}))

    # Mixed dtypes from the reference library (reader test). F16 bit patterns chosen by hand.
    f16_bits = np.array([0x3C00, 0xC000, 0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF,
                         0x7C00, 0xFC00, 0x7E00, 0x3555, 0x3800, 0xB400, 0x4900, 0x0200], dtype=np.uint16)
    mixed = {
        "half": f16_bits.view(np.float16).reshape(4, 4),
        "position_ids": np.arange(5, dtype=np.int64).reshape(1, 5),
        "double": np.array([1.0, -0.1, 1e300], dtype=np.float64),
        "i32": np.array([-7, 7], dtype=np.int32),
        "u8": np.array([0, 255], dtype=np.uint8),
        "i8": np.array([-128, 127], dtype=np.int8),
        "flags": np.array([True, False, True]),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    write("python_mixed.safetensors", save(mixed, metadata={"format": "pt", "note": "fixture"}))

    # BF16 (numpy has no bfloat16): hand-built file with explicit bits.
    bf16_bits = [0x3F80, 0xC000, 0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x3EAB, 0x4049]
    header = json.dumps({"bf": {"dtype": "BF16", "shape": [10], "data_offsets": [0, 20]}}, separators=(",", ":"))
    header = header.encode() + b" " * ((8 - len(header) % 8) % 8)
    write("bf16.safetensors", struct.pack("<Q", len(header)) + header + struct.pack("<10H", *bf16_bits))

    # .fvecs / .ivecs (TEXMEX layout) for a 3 x 4 matrix.
    m = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5).astype(np.float32)
    rows = np.hstack([np.full((3, 1), 4, dtype=np.int32), m.view(np.int32)])
    write("m_3x4.fvecs", rows.astype("<i4").tobytes())
    im = np.arange(12, dtype=np.int32).reshape(3, 4) * -3
    write("m_3x4.ivecs", np.hstack([np.full((3, 1), 4, dtype=np.int32), im]).astype("<i4").tobytes())
    print("fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
