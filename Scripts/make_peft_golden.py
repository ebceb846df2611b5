#!/usr/bin/env python3
"""Golden fixture of a PEFT LoRA adapter: the folder PEFT writes and the embeddings sentence-transformers gives with it.

all-MiniLM-L6-v2 with peft.LoraConfig(r=2, lora_alpha=6, target_modules=["query", "value"]) on every layer.
PEFT initialises B to zeros (the adapter starts as the identity), so A and B are overwritten with seeded
Normal(0, 0.05) values to make the adapter change every embedding. The folder is saved with
PeftModel.save_pretrained (adapter_model.safetensors, adapter_config.json; the generated README.md is dropped).
The embeddings come from SentenceTransformer(model).load_adapter(folder).encode(texts), the path a Python
user takes; the script also checks them against PeftModel.from_pretrained + mean pooling.

Writes Tests/Fixtures/golden/peft_lora/ (the adapter) and Tests/Fixtures/golden/peft_lora.json (texts,
embeddings). The Swift test `PeftLoRAParityTests` loads the folder with `loadAdapter` and compares.

Usage (dev venv, offline): /work/venv/bin/python Scripts/make_peft_golden.py [--model DIR]
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "golden"))
    args = ap.parse_args()

    import numpy as np
    import peft
    import torch
    import torch.nn.functional as F
    from peft import LoraConfig, PeftModel, get_peft_model
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = get_peft_model(AutoModel.from_pretrained(args.model),
                           LoraConfig(r=2, lora_alpha=6, lora_dropout=0.0, target_modules=["query", "value"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn_like(p) * 0.05)
    model.peft_config["default"].base_model_name_or_path = "sentence-transformers/all-MiniLM-L6-v2"  # not this machine's path
    folder = os.path.join(args.out, "peft_lora")
    staging = tempfile.mkdtemp(dir=args.out)
    os.chmod(staging, 0o755)
    model.save_pretrained(staging)
    os.remove(os.path.join(staging, "README.md"))
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.replace(staging, folder)

    st = SentenceTransformer(args.model, device="cpu")
    st.load_adapter(folder)
    emb = st.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=False)

    # The same through PEFT directly: mean pooling over the mask, then L2 normalisation.
    tok = AutoTokenizer.from_pretrained(args.model)
    pm = PeftModel.from_pretrained(AutoModel.from_pretrained(args.model), folder).eval()
    with torch.no_grad():
        b = tok(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="pt")
        h = pm(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        direct = F.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
    base = SentenceTransformer(args.model, device="cpu").encode(TEXTS, convert_to_numpy=True)
    print(f"sentence-transformers vs PeftModel: max |diff| {np.abs(emb - direct).max():.3g}; "
          f"adapter moves the embeddings by up to {np.abs(emb - base).max():.3g}")

    out = {"generator": "Scripts/make_peft_golden.py",
           "versions": {"peft": peft.__version__, "torch": torch.__version__},
           "texts": TEXTS, "embeddings": emb.astype(float).tolist()}
    path = os.path.join(args.out, "peft_lora.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(path + ".tmp", path)
    print(f"wrote {folder}/ ({', '.join(sorted(os.listdir(folder)))}) and {path}")


if __name__ == "__main__":
    main()
