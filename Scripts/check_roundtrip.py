#!/usr/bin/env python3
"""Round trip of a model folder written by RecAlign: sentence-transformers in Python must encode to the same vectors.

Encodes a few texts with `recalign encode --model FOLDER` (Swift) and with
sentence_transformers.SentenceTransformer(FOLDER) (Python), and checks max |difference| <= --tol (1e-4).
Also loads the folder with transformers' AutoModel and checks that no weight is missing or unexpected
(the base model's pooler travels along).

Usage (from the repository root, dev venv):
  /work/venv/bin/python Scripts/check_roundtrip.py --model OUT/best [--recalign .build/release/recalign]
Exit status 0 when within tolerance, 1 otherwise.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

TEXTS = [
    "Toy Story (1995) Animation Children's Comedy",
    "Star Wars (1977) Action Adventure Romance Sci-Fi War ; Fargo (1996) Crime Drama Thriller ; Contact (1997) Drama Sci-Fi",
    "a",
    "Il Postino (1994) Drama Romance — ünïcödé and punctuation!?",
    "Schindler's List (1993) Drama War ; " * 6,
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="sentence-transformers folder written by recalign train")
    ap.add_argument("--recalign", default=".build/release/recalign", help="recalign binary")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "texts.txt"), os.path.join(tmp, "emb.npy")
        with open(inp, "w", encoding="utf-8") as f:
            f.write("\n".join(TEXTS) + "\n")
        subprocess.run([a.recalign, "encode", "--model", a.model, "--input", inp, "--output", out], check=True)
        swift = np.load(out)
    st = SentenceTransformer(a.model, device="cpu")
    py = st.encode(TEXTS, batch_size=8, convert_to_numpy=True)
    if swift.shape != py.shape:
        print(f"shape mismatch: recalign {swift.shape}, sentence-transformers {py.shape}")
        return 1
    diff = float(np.abs(swift - py).max())
    print(f"{a.model}: {len(TEXTS)} texts, dim {py.shape[1]}, max |recalign - sentence-transformers| = {diff:.3g} (tol {a.tol:g})")
    from transformers import AutoModel

    _, info = AutoModel.from_pretrained(a.model, output_loading_info=True)
    keys = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    print(f"transformers AutoModel: {keys or 'no missing, unexpected or mismatched keys'}")
    return 0 if diff <= a.tol and not keys else 1


if __name__ == "__main__":
    sys.exit(main())
