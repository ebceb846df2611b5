#!/usr/bin/env python3
"""Exports the BertModel of a sentence-transformers / HF folder to ONNX (the ONNX Runtime peer of bench_encode.py).

Inputs input_ids, attention_mask, token_type_ids ([batch, seq], int64); output last_hidden_state
([batch, seq, hidden]); batch and seq are dynamic axes; opset 17; TorchScript exporter (dynamo=False: it
needs no onnxscript). Pooling is left to the caller. The file is written to a temp name and renamed.

Usage (dev venv, offline):
  /work/venv/bin/python Scripts/export_onnx.py --model checkpoints/all-MiniLM-L6-v2 --out /tmp/recalign-bench/minilm.onnx
"""

import argparse
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def export(model_dir, out_path, opset=17):
    """Exports `model_dir`'s BertModel to `out_path` (atomic) and checks it with onnx.checker; returns out_path."""
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    wrapper = Encoder(bert).eval()
    ids = torch.randint(1000, bert.config.vocab_size, (2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".tmp-", suffix=".onnx")
    os.close(fd)
    try:
        with torch.no_grad():
            torch.onnx.export(
                wrapper, (ids, mask, types), tmp,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                              "attention_mask": {0: "batch", 1: "seq"},
                              "token_type_ids": {0: "batch", 1: "seq"},
                              "last_hidden_state": {0: "batch", 1: "seq"}},
                opset_version=opset, do_constant_folding=True, dynamo=False)
        import onnx
        onnx.checker.check_model(tmp)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", required=True, help="output .onnx path")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        sys.exit(f"export_onnx: {args.model}: no config.json (not a model folder)")
    export(args.model, args.out, args.opset)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
