#!/usr/bin/env python3
"""Round trips of what RecAlign writes (model folders, LoRA and IA3 adapters, safetensors files): Python must read them.

One check per run, chosen by flag: --model, --adapter, --ia3, --safetensors or --safetensors-any.

Model folder: encodes a few texts with `recalign encode --model FOLDER` (Swift) and with
sentence_transformers.SentenceTransformer(FOLDER) (Python), and checks max |difference| <= --tol (1e-4).
Also loads the folder with transformers' AutoModel and checks that no weight is missing or unexpected
(the base model's pooler travels along).

LoRA adapter (`--adapter OUT/best` of a `--method lora` run, PEFT's layout): encodes with
`recalign encode --model BASE --adapter DIR` and with SentenceTransformer(BASE) after load_adapter(DIR), and
checks the same tolerance; also loads DIR with peft.PeftModel.from_pretrained and checks that every LoRA
matrix of the file was loaded.

IA3 adapter (`--ia3 DIR --embeddings EMB.npy`, PEFT's (IA)^3 layout written by RecAlign): loads DIR with
peft.PeftModel.from_pretrained over the base model (--model, default checkpoints/all-MiniLM-L6-v2), checks
that every IA3 vector of the file was loaded with its values, encodes the texts (--texts FILE, one per line as
`recalign encode --input` reads them; default the five texts below) with mean pooling over the attention mask
and L2 normalisation (sentence-transformers' all-MiniLM-L6-v2, max length from sentence_bert_config.json, 256)
and compares them with EMB.npy, RecAlign's embeddings of the same texts (max |difference| < --tol-ia3, 1e-5).

safetensors (`--safetensors [PATH]`): Python's `safetensors` loads the file the Swift test
`SafeTensorsWriterTests.writesFileForPythonCheck` leaves at $TMPDIR/recalign-fmt-check/swift_written.safetensors,
and every value is compared with the formulas the test used. `--safetensors-any PATH` only loads PATH (e.g. a
saved model.safetensors) and prints names, dtypes and shapes. Needs only numpy and safetensors.

Usage (from the repository root, dev venv):
  /work/venv/bin/python Scripts/check_roundtrip.py --model OUT/best [--recalign .build/release/recalign]
  /work/venv/bin/python Scripts/check_roundtrip.py --adapter OUT/best [--model checkpoints/all-MiniLM-L6-v2]
  /work/venv/bin/python Scripts/check_roundtrip.py --ia3 OUT/best --embeddings emb.npy [--texts texts.txt] [--model BASE]
  swift test --filter RecAlignFormatsTests.SafeTensorsWriterTests
  /work/venv/bin/python Scripts/check_roundtrip.py --safetensors [PATH]
  /work/venv/bin/python Scripts/check_roundtrip.py --safetensors-any checkpoints/run/model.safetensors
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
    ap.add_argument("--ia3", metavar="DIR", help="PEFT IA3 adapter folder written by RecAlign (needs --embeddings)")
    ap.add_argument("--embeddings", metavar="NPY", help="with --ia3: RecAlign's embeddings of the texts, [n, dim] .npy")
    ap.add_argument("--texts", metavar="FILE", help="with --ia3: the texts, one per line (default: the built-in five)")
    ap.add_argument("--safetensors", nargs="?", const="", metavar="PATH",
                    help="check the file SafeTensorsWriterTests leaves (default $TMPDIR/recalign-fmt-check/swift_written.safetensors)")
    ap.add_argument("--safetensors-any", metavar="PATH", help="load any safetensors file and list its tensors")
    ap.add_argument("--recalign", default=".build/release/recalign", help="recalign binary")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--tol-ia3", type=float, default=1e-5, help="with --ia3: max |difference| allowed (strictly below)")
    a = ap.parse_args()
    modes = [m for m in ("adapter", "ia3", "safetensors", "safetensors_any") if getattr(a, m) is not None]
    if len(modes) > 1:
        ap.error("give one of --adapter, --ia3, --safetensors, --safetensors-any")
    if a.safetensors_any is not None:
        return check_safetensors_any(a.safetensors_any)
    if a.safetensors is not None:
        return check_safetensors(a.safetensors or None)
    if a.ia3:
        if not a.embeddings:
            ap.error("--ia3 needs --embeddings EMB.npy")
        return check_ia3(a)
    if a.adapter:
        return check_adapter(a)
    if not a.model:
        ap.error("--model, --adapter, --ia3, --safetensors or --safetensors-any is required")
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


def check_ia3(a):
    """PeftModel.from_pretrained(base, DIR): every IA3 vector of the file loaded as saved, and mean-pooled,
    normalised embeddings of the texts within --tol-ia3 of the .npy RecAlign wrote."""
    import json

    import torch
    import torch.nn.functional as F
    from peft import PeftModel
    from safetensors import safe_open
    from transformers import AutoModel, AutoTokenizer

    base = a.model or "checkpoints/all-MiniLM-L6-v2"
    if a.texts:
        with open(a.texts, encoding="utf-8") as f:
            texts = [line.rstrip("\r\n") for line in f]
        while texts and texts[-1] == "":
            texts.pop()
    else:
        texts = TEXTS
    max_length = 256
    sbert = os.path.join(base, "sentence_bert_config.json")
    if os.path.isfile(sbert):
        with open(sbert) as f:
            max_length = json.load(f).get("max_seq_length", max_length)
    with open(os.path.join(a.ia3, "adapter_config.json")) as f:
        cfg = json.load(f)
    print(f"{a.ia3}: peft_type {cfg.get('peft_type')}, target_modules {cfg.get('target_modules')}, "
          f"feedforward_modules {cfg.get('feedforward_modules')}")
    if cfg.get("peft_type") != "IA3":
        print(f"not an IA3 adapter: peft_type {cfg.get('peft_type')!r}")
        return 1

    torch.set_num_threads(2)
    pm = PeftModel.from_pretrained(AutoModel.from_pretrained(base), a.ia3).eval()
    with safe_open(os.path.join(a.ia3, "adapter_model.safetensors"), "pt") as f:
        saved = {k: f.get_tensor(k) for k in f.keys()}
    live = {k: v for k, v in pm.state_dict().items() if "ia3_" in k}

    def live_name(k):  # PEFT saves without the adapter name: ...key.ia3_l -> ...key.ia3_l.default
        return k if k in live else k + ".default" if k + ".default" in live else k.replace(".ia3_l", ".ia3_l.default")
    missing = [k for k in saved if live_name(k) not in live]
    differ = [k for k in saved if k not in missing and not bool((live[live_name(k)] == saved[k]).all())]
    print(f"peft.PeftModel: {len(saved)} IA3 vectors in the file, {len(live)} in the model; "
          f"not loaded: {missing[:3] or 'none'}; loaded with other values: {differ[:3] or 'none'}")

    tok = AutoTokenizer.from_pretrained(base)
    with torch.no_grad():
        b = tok(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        h = pm(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        py = F.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
    swift = np.load(a.embeddings)
    if swift.shape != py.shape:
        print(f"shape mismatch: {a.embeddings} {swift.shape}, PeftModel {py.shape} ({len(texts)} texts)")
        return 1
    diff = float(np.abs(swift.astype(np.float64) - py.astype(np.float64)).max())
    ok = diff < a.tol_ia3 and not missing and not differ and len(live) == len(saved)
    print(f"{a.ia3}: {len(texts)} texts, dim {py.shape[1]}, max |recalign - PeftModel| = {diff:.3g} "
          f"(pass if < {a.tol_ia3:g}): {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


def check_safetensors(path):
    """Python's safetensors loads SafeTensorsWriterTests' file with the values the test wrote."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = path or os.path.join(tempfile.gettempdir(), "recalign-fmt-check", "swift_written.safetensors")
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
    return 0


def check_safetensors_any(path):
    """Loads any safetensors file and lists its tensors."""
    from safetensors.numpy import load_file

    tensors = load_file(path)
    for name in sorted(tensors):
        t = tensors[name]
        print(f"{name}\t{t.dtype}\t{list(t.shape)}")
    print(f"OK: {len(tensors)} tensors loaded from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
