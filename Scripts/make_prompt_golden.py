#!/usr/bin/env python3
"""Golden fixture of the soft prompt (PyTorch): embeddings, MNRL loss and its gradient w.r.t. the prompt.

all-MiniLM-L6-v2 in eval mode (no dropout), float32, 1 thread; a 5-vector prompt inserted after [CLS] as
RecAlign (and Scripts/ref_prompt_tune.py) do it: inputs_embeds = [CLS] + prompt + the text's other tokens,
position ids 0..T+4 over the longer sequence, token types 0, attention mask extended with ones; mean pooling
over the text's tokens ("text") or over the virtual ones too ("all"), L2-normalised. Users and items are
padded batches of different lengths (padding after [SEP], masked). Loss = MNRL: cross-entropy over
20 x cos(user i, item j), targets i (items beyond the users are extra negatives).

Writes Tests/Fixtures/golden/soft_prompt.json: texts, the prompt [5, 384], and per pooling mode the user and
item embeddings, the loss and dL/d prompt.

Usage (dev venv, offline): /work/venv/bin/python Scripts/make_prompt_golden.py [--model DIR] [--out FILE]
"""

import argparse
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from soft_prompt import embed_with_prompt  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USERS = ["Toy Story (1995) Animation Children's Comedy ; Heat (1995) Action Crime Thriller ; Fargo (1996) Crime Drama Thriller",
         "Star Wars (1977) Action Adventure Romance Sci-Fi War",
         "Scream (1996) Horror Thriller ; Contact (1997) Drama Sci-Fi"]
ITEMS = ["Babe (1995) Children's Comedy Drama",
         "Return of the Jedi (1983) Action Adventure Romance Sci-Fi War",
         "Air Force One (1997) Action Thriller",
         "Evita (1996) Drama Musical"]
P = 5
SCALE = 20.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "golden", "soft_prompt.json"))
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F
    import transformers
    from transformers import AutoModel, AutoTokenizer
    torch.set_num_threads(1)
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModel.from_pretrained(args.model).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    word_emb = model.get_input_embeddings()
    # Rows of real tokens, nudged so the prompt is not any token's embedding.
    rows = torch.tensor([2000, 3017, 4242, 7592, 10000])
    nudge = torch.from_numpy(np.sin(np.arange(P * 384, dtype=np.float64) * 0.37).reshape(P, 384).astype(np.float32))
    prompt0 = (word_emb.weight[rows].detach() + 0.01 * nudge).contiguous()

    out = {"generator": "Scripts/make_prompt_golden.py",
           "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
           "users": USERS, "items": ITEMS, "scale": SCALE,
           "prompt": prompt0.numpy().astype(float).tolist(), "modes": {}}
    for mode in ("text", "all"):
        prompt = torch.nn.Parameter(prompt0.clone())
        u = embed_with_prompt(model, tok, USERS, prompt, mode == "all")
        v = embed_with_prompt(model, tok, ITEMS, prompt, mode == "all")
        loss = F.cross_entropy(SCALE * u @ v.T, torch.arange(len(USERS)))
        loss.backward()
        out["modes"][mode] = {"users": u.detach().numpy().astype(float).tolist(),
                              "items": v.detach().numpy().astype(float).tolist(),
                              "loss": float(loss.detach()), "grad": prompt.grad.numpy().astype(float).tolist()}
        print(f"{mode}: loss {float(loss.detach()):.6f}, |grad| {float(prompt.grad.norm()):.6f}")
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
