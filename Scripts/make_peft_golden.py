#!/usr/bin/env python3
"""Golden fixtures of PEFT adapters (LoRA, IA3): the folder PEFT writes and the embeddings sentence-transformers gives with it.

lora: all-MiniLM-L6-v2 with peft.LoraConfig(r=2, lora_alpha=6, target_modules=["query", "value"]) on every layer.
  PEFT initialises B to zeros (the adapter starts as the identity), so A and B are overwritten with seeded
  Normal(0, 0.05) values to make the adapter change every embedding.
ia3: all-MiniLM-L6-v2 with PEFT's DEFAULT (IA)^3 config, peft.IA3Config(target_modules=None,
  feedforward_modules=None): PEFT's mapping for bert gives target_modules ["key", "value", "output.dense"] and
  feedforward_modules ["output.dense"] ("output.dense" matches both attention.output.dense and the layer's
  output.dense, so both are feed-forward: their vector [1, in_features] scales the layer's INPUT; key and value
  scale their OUTPUT with a vector [out_features, 1]). PEFT initialises the vectors to 1.0 (the identity), so
  they are overwritten with seeded 1 + 0.3 * Normal(0, 1) values. The JSON also records the tensor names and
  shapes of adapter_model.safetensors and the config's target_modules / feedforward_modules as saved.
Each folder is saved with PeftModel.save_pretrained (adapter_model.safetensors, adapter_config.json; the
generated README.md is dropped). The embeddings come from SentenceTransformer(model).load_adapter(folder)
.encode(texts), the path a Python user takes; the script also checks them against PeftModel.from_pretrained +
mean pooling + L2 normalisation.

Writes Tests/Fixtures/golden/peft_lora/ + peft_lora.json and Tests/Fixtures/golden/peft_ia3/ + peft_ia3.json
(texts, embeddings, ...). The Swift test `PeftLoRAParityTests` loads peft_lora/ with `loadAdapter` and compares.

Usage (dev venv, offline):
  /work/venv/bin/python Scripts/make_peft_golden.py [--model DIR] [--only lora|ia3]   # default: both
"""

import argparse
import json
import os
import shutil
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXTS = ["Toy Story (1995) Animation Children's Comedy ; Heat (1995) Action Crime Thriller ; Fargo (1996) Crime Drama Thriller",
         "Star Wars (1977) Action Adventure Romance Sci-Fi War",
         "Evita (1996) Drama Musical"]


def save_folder(model, out, name):
    """PeftModel.save_pretrained into out/name (staged, then swapped in), without the generated README.md."""
    model.peft_config["default"].base_model_name_or_path = "sentence-transformers/all-MiniLM-L6-v2"  # not this machine's path
    folder = os.path.join(out, name)
    staging = tempfile.mkdtemp(dir=out)
    os.chmod(staging, 0o755)
    model.save_pretrained(staging)
    os.remove(os.path.join(staging, "README.md"))
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.replace(staging, folder)
    return folder


def adapter_embeddings(model_dir, folder):
    """Embeddings of TEXTS with the adapter: sentence-transformers' load_adapter (the fixture's values), checked
    against PeftModel.from_pretrained + mean pooling over the mask + L2 normalisation. Returns (emb, checks)."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from peft import PeftModel
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    st = SentenceTransformer(model_dir, device="cpu")
    st.load_adapter(folder)
    emb = st.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=False)

    # The same through PEFT directly: mean pooling over the mask, then L2 normalisation.
    tok = AutoTokenizer.from_pretrained(model_dir)
    pm = PeftModel.from_pretrained(AutoModel.from_pretrained(model_dir), folder).eval()
    with torch.no_grad():
        b = tok(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="pt")
        h = pm(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        direct = F.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
    base = SentenceTransformer(model_dir, device="cpu").encode(TEXTS, convert_to_numpy=True)
    checks = {"max_abs_diff_sentence_transformers_vs_peft_model": float(np.abs(emb - direct).max()),
              "max_abs_shift_from_base": float(np.abs(emb - base).max())}
    print(f"sentence-transformers vs PeftModel: max |diff| {checks['max_abs_diff_sentence_transformers_vs_peft_model']:.3g}; "
          f"adapter moves the embeddings by up to {checks['max_abs_shift_from_base']:.3g}")
    return emb, checks


def write_json(out, name, obj):
    path = os.path.join(out, name)
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.replace(path + ".tmp", path)
    return path


def make_lora(args):
    import peft
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    torch.manual_seed(0)
    model = get_peft_model(AutoModel.from_pretrained(args.model),
                           LoraConfig(r=2, lora_alpha=6, lora_dropout=0.0, target_modules=["query", "value"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn_like(p) * 0.05)
    folder = save_folder(model, args.out, "peft_lora")
    emb, _ = adapter_embeddings(args.model, folder)
    out = {"generator": "Scripts/make_peft_golden.py",
           "versions": {"peft": peft.__version__, "torch": torch.__version__},
           "texts": TEXTS, "embeddings": emb.astype(float).tolist()}
    path = write_json(args.out, "peft_lora.json", out)
    print(f"wrote {folder}/ ({', '.join(sorted(os.listdir(folder)))}) and {path}")


def make_ia3(args):
    import peft
    import torch
    import transformers
    from peft import IA3Config, get_peft_model
    from safetensors import safe_open
    from transformers import AutoModel

    torch.manual_seed(0)
    # PEFT's default for bert: target_modules and feedforward_modules from its model-type mapping.
    model = get_peft_model(AutoModel.from_pretrained(args.model), IA3Config(target_modules=None, feedforward_modules=None))
    live = {}
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ia3_" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
                live[name] = list(p.shape)
    folder = save_folder(model, args.out, "peft_ia3")
    with open(os.path.join(folder, "adapter_config.json")) as f:
        cfg = json.load(f)
    with safe_open(os.path.join(folder, "adapter_model.safetensors"), "pt") as f:
        tensors = {k: list(f.get_slice(k).get_shape()) for k in sorted(f.keys())}
        dtypes = sorted({str(f.get_slice(k).get_dtype()) for k in f.keys()})
    print(f"adapter_config.json: peft_type {cfg.get('peft_type')}, target_modules {cfg.get('target_modules')}, "
          f"feedforward_modules {cfg.get('feedforward_modules')}, fan_in_fan_out {cfg.get('fan_in_fan_out')}, "
          f"init_ia3_weights {cfg.get('init_ia3_weights')}")
    print(f"adapter_model.safetensors: {len(tensors)} tensors, dtypes {dtypes}")
    for k, shape in tensors.items():
        print(f"  {k}  {shape}")
    emb, checks = adapter_embeddings(args.model, folder)
    out = {"generator": "Scripts/make_peft_golden.py --only ia3",
           "versions": {"peft": peft.__version__, "torch": torch.__version__, "transformers": transformers.__version__},
           "config": {k: cfg.get(k) for k in ("peft_type", "target_modules", "feedforward_modules", "fan_in_fan_out",
                                              "init_ia3_weights", "modules_to_save", "task_type")},
           "init": "every IA3 vector = 1 + 0.3 * N(0, 1), torch.Generator().manual_seed(1234), in named_parameters order",
           "tensors": tensors, "tensor_dtypes": dtypes,
           "semantics": "feed-forward modules (feedforward_modules) scale the layer's input by a [1, in_features] "
                        "vector; the other target modules scale its output by an [out_features, 1] vector",
           "pooling": "mean over the attention mask, then L2 normalisation (sentence-transformers all-MiniLM-L6-v2), max length 256",
           "checks": checks, "texts": TEXTS, "embeddings": emb.astype(float).tolist()}
    path = write_json(args.out, "peft_ia3.json", out)
    print(f"wrote {folder}/ ({', '.join(sorted(os.listdir(folder)))}) and {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "golden"))
    ap.add_argument("--only", choices=["lora", "ia3"], help="write only this fixture (default: both)")
    args = ap.parse_args()

    import torch
    torch.set_num_threads(1)
    if args.only in (None, "lora"):
        make_lora(args)
    if args.only in (None, "ia3"):
        make_ia3(args)


if __name__ == "__main__":
    main()
