#!/usr/bin/env python3
"""Round trip of a model folder or LoRA adapter written by RecAlign: Python must encode to the same vectors.

Model folder: encodes a few texts with `recalign encode --model FOLDER` (Swift) and with
sentence_transformers.SentenceTransformer(FOLDER) (Python), and checks max |difference| <= --tol (1e-4).
Also loads the folder with transformers' AutoModel and checks that no weight is missing or unexpected
(the base model's pooler travels along).

LoRA adapter (`--adapter OUT/best` of a `--method lora` run, PEFT's layout): encodes with
`recalign encode --model BASE --adapter DIR` and with SentenceTransformer(BASE) after load_adapter(DIR), and
checks the same tolerance; also loads DIR with peft.PeftModel.from_pretrained and checks that every LoRA
matrix of the file was loaded.

Usage (from the repository root, dev venv):
  /work/venv/bin/python Scripts/check_roundtrip.py --model OUT/best [--recalign .build/release/recalign]
  /work/venv/bin/python Scripts/check_roundtrip.py --adapter OUT/best [--model checkpoints/all-MiniLM-L6-v2]
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
    ap.add_argument("--model", help="sentence-transformers folder written by recalign train (with --adapter: the base model; "
                    "default checkpoints/all-MiniLM-L6-v2)")
    ap.add_argument("--adapter", help="LoRA adapter folder written by recalign train --method lora")
    ap.add_argument("--recalign", default=".build/release/recalign", help="recalign binary")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    if a.adapter:
        return check_adapter(a)
    if not a.model:
        ap.error("--model or --adapter is required")
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


def recalign_encode(recalign, *args):
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "texts.txt"), os.path.join(tmp, "emb.npy")
        with open(inp, "w", encoding="utf-8") as f:
            f.write("\n".join(TEXTS) + "\n")
        subprocess.run([recalign, "encode", *args, "--input", inp, "--output", out], check=True)
        return np.load(out)


def check_adapter(a):
    from peft import PeftModel
    from safetensors import safe_open
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    base = a.model or "checkpoints/all-MiniLM-L6-v2"
    swift = recalign_encode(a.recalign, "--model", base, "--adapter", a.adapter)
    st = SentenceTransformer(base, device="cpu")
    st.load_adapter(a.adapter)
    py = st.encode(TEXTS, batch_size=8, convert_to_numpy=True)
    plain = SentenceTransformer(base, device="cpu").encode(TEXTS, batch_size=8, convert_to_numpy=True)
    diff = float(np.abs(swift - py).max())
    moved = float(np.abs(plain - py).max())
    print(f"{a.adapter}: {len(TEXTS)} texts, max |recalign - sentence-transformers.load_adapter| = {diff:.3g} (tol {a.tol:g}); "
          f"the adapter moves the base embeddings by up to {moved:.3g}")
    pm = PeftModel.from_pretrained(AutoModel.from_pretrained(base), a.adapter)
    with safe_open(os.path.join(a.adapter, "adapter_model.safetensors"), "pt") as f:
        saved = {k: f.get_tensor(k) for k in f.keys()}
    live = {k: v for k, v in pm.state_dict().items() if "lora_" in k}
    missing = [k for k in saved if k.replace(".weight", ".default.weight") not in live]
    differ = [k for k in saved if k not in missing and not bool((live[k.replace(".weight", ".default.weight")] == saved[k]).all())]
    print(f"peft.PeftModel: {len(saved)} LoRA matrices in the file, {len(live)} in the model; "
          f"not loaded: {missing[:3] or 'none'}; loaded with other values: {differ[:3] or 'none'}")
    return 0 if diff <= a.tol and not missing and not differ and len(live) == len(saved) else 1


if __name__ == "__main__":
    sys.exit(main())
