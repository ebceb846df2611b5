#!/usr/bin/env python3
"""Checks that Python's `safetensors` loads a file written by RecAlign's SafeTensorsWriter.

Default input is the file the Swift test `SafeTensorsWriterTests.writesFileForPythonCheck` leaves at
$TMPDIR/recalign-fmt-check/swift_written.safetensors; every value is compared with the formulas the test used.
With `--any PATH` it only loads PATH (e.g. a saved model.safetensors) and prints names, dtypes and shapes.

Usage:
  swift test --filter RecAlignFormatsTests.SafeTensorsWriterTests
  python3 Scripts/check_safetensors_roundtrip.py [PATH]
  python3 Scripts/check_safetensors_roundtrip.py --any checkpoints/run/model.safetensors
Needs: numpy, `pip install safetensors`.
"""
import os
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def main():
    args = sys.argv[1:]
    if args and args[0] == "--any":
        tensors = load_file(args[1])
        for name in sorted(tensors):
            t = tensors[name]
            print(f"{name}\t{t.dtype}\t{list(t.shape)}")
        print(f"OK: {len(tensors)} tensors loaded from {args[1]}")
        return
    path = args[0] if args else os.path.join(tempfile.gettempdir(), "recalign-fmt-check", "swift_written.safetensors")
    tensors = load_file(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    assert meta == {"format": "pt"}, meta
    assert sorted(tensors) == ["embeddings.position_ids", "encoder.layer.0.weight", "pooler.bias"], sorted(tensors)
    w = tensors["encoder.layer.0.weight"]
    assert w.dtype == np.float32 and w.shape == (3, 5)
    assert np.array_equal(w, (np.arange(15, dtype=np.float32) / 4 - 1).reshape(3, 5))
    p = tensors["embeddings.position_ids"]
    assert p.dtype == np.int64 and p.shape == (1, 4) and p.tolist() == [[0, 1, 2, 3]]
    b = tensors["pooler.bias"]
    assert b.dtype == np.float32 and np.array_equal(b, np.arange(7, dtype=np.float32) * 3)
    print(f"OK: Python safetensors loaded {path}: {len(tensors)} tensors, values as written")


if __name__ == "__main__":
    main()
