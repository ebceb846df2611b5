#!/usr/bin/env python3
"""Generates the golden fixtures (tokens, embeddings, hidden states, gradients) that the Swift tests compare against.

Runs offline in the dev venv (/work/venv, see Scripts/README.md) against the sentence-transformers folder
fetched by checkpoints/fetch_model.sh, and writes Tests/Fixtures/golden/:

    texts.json, tokens.json, embeddings.npy, embeddings_len128.npy,
    batch_input_ids.npy, batch_attention_mask.npy, batch_layer0.npy, batch_hidden.npy,
    grads/*.npy, manifest.json (describes every file).

Usage: /work/venv/bin/python Scripts/make_golden.py [--model checkpoints/all-MiniLM-L6-v2] [--out Tests/Fixtures/golden]
"""

import argparse
import json
import os
import platform
import struct
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
import sentence_transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers import AutoModel, AutoTokenizer, BertTokenizer  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Item texts in the ml-100k format of PROTOCOL.md section 5 ("{title} ({year}) {genres}").
ML_TITLES = [
    "Toy Story (1995) Animation Children's Comedy",
    "GoldenEye (1995) Action Adventure Thriller",
    "Four Rooms (1995) Thriller",
    "Get Shorty (1995) Action Comedy Drama",
    "Copycat (1995) Crime Drama Thriller",
    "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995) Drama",
    "Twelve Monkeys (1995) Drama Sci-Fi",
    "Babe (1995) Children's Comedy Drama",
    "Dead Man Walking (1995) Drama",
    "Richard III (1995) Drama War",
    "Seven (Se7en) (1995) Crime Thriller",
    "Usual Suspects, The (1995) Crime Thriller",
    "Mighty Aphrodite (1995) Comedy",
    "Postino, Il (1994) Drama Romance",
    "Mr. Holland's Opus (1995) Drama",
    "French Twist (Gazon maudit) (1995) Comedy Romance",
    "From Dusk Till Dawn (1996) Action Comedy Crime Horror Thriller",
    "White Balloon, The (1995) Drama",
    "Star Wars (1977) Action Adventure Romance Sci-Fi War",
    "Lion King, The (1994) Animation Children's Musical",
]

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
         "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
         "aliquip ex ea commodo consequat. ")


def build_texts():
    """The fixed fixture texts: short ml-100k titles first (so the padded batch stays small), then edge cases."""
    texts = list(ML_TITLES)
    texts += [
        "unkonwn (unkonwn) unknown",
        # User texts as PROTOCOL.md section 5 builds them (items joined with " ; ").
        " ; ".join(ML_TITLES[:3]),
        " ; ".join(ML_TITLES + ML_TITLES[:5]),  # ~ 300 tokens: past 256
        (LOREM * 12).strip(),  # ~ 600 tokens: past the 512 positions too
        # Accents and non-Latin scripts.
        "Café déjà vu naïve Ærø",
        "Crème Brûlée à la Française, São Paulo, Zürich, Ångström, Øresund, Straße",
        "cafe\u0301 with a combining acute accent (NFD)",
        "Ünïcödé ÜBER ﬁ ligature ＦＵＬＬＷＩＤＴＨ Ⅻ ① ² ½",
        "我爱北京天安门",
        "東京タワーは美しいです。ひらがなカタカナ",
        "안녕하세요 세계",
        "Mixed 中文 and English 混合 text",
        "Greek αβγ Δ and Cyrillic Привет мир",
        "Arabic مرحبا بالعالم and Hebrew שלום",
        "Thai ภาษาไทย Hindi नमस्ते",
        # Punctuation, emoji, casing.
        "Hello!!! What?!?... (really) [yes] {no} <maybe> @#$%^&*_+=~`|\\/",
        "--- ... ,,, ;;; ::: ''' \"\"\"",
        "don't won't it's O'Neil's rock'n'roll",
        "e-mail: someone@example.com url https://example.org/path?q=1&r=2",
        "I love movies 🎬🍿😀 👨‍👩‍👧‍👦 🇫🇷",
        "MiXeD CaSe TeXt WITH ALL CAPS and lower",
        # Empty and whitespace / control characters.
        "",
        "   ",
        "tabs\tand\nnewlines\r\nand   multiple    spaces",
        "control\x00chars\x07here\x1b[0m\x7f end",
        "zero\u200bwidth\u200cjoiner\ufeffbom and\u00a0nbsp\u3000ideographic space",
        # Word-length limit of WordPiece (max_input_chars_per_word = 100).
        "x" * 100 + " fits",
        "y" * 101 + " too long",
        "Supercalifragilisticexpialidocious" * 4,
        # Numbers.
        "3.14159 1,000,000 2024-01-01 12:30pm 1e-5 -42 007",
        "The year 1995 and 19955 and 1,995",
    ]
    return texts


def write_npy(path, array, dtype):
    """Writes a little-endian, C-order .npy with a version 1.0 header, atomically (temp file + rename)."""
    arr = np.ascontiguousarray(np.asarray(array, dtype=np.dtype(dtype).newbyteorder("<")))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        np.lib.format.write_array(f, arr, version=(1, 0), allow_pickle=False)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return arr


def write_json(path, obj):
    """Writes UTF-8 JSON (non-ASCII kept as is) atomically."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def safetensors_header(path):
    """Returns the parsed JSON header of a .safetensors file (tensor name -> dtype, shape, offsets)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def file_entry(out_dir, rel, arr, meaning):
    return {"file": rel, "shape": list(arr.shape), "dtype": arr.dtype.str, "bytes": os.path.getsize(os.path.join(out_dir, rel)),
            "meaning": meaning}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "Tests", "Fixtures", "golden"))
    args = ap.parse_args()
    model_dir = os.path.abspath(args.model)
    out = os.path.abspath(args.out)
    if not os.path.isfile(os.path.join(model_dir, "model.safetensors")):
        sys.exit(f"make_golden: {model_dir}/model.safetensors not found; run checkpoints/fetch_model.sh first")

    torch.manual_seed(0)
    torch.set_num_threads(1)  # shared 2-core machine; also makes the float reductions reproducible
    texts = build_texts()
    files = []

    # ---- texts.json
    write_json(os.path.join(out, "texts.json"), texts)
    files.append({"file": "texts.json", "meaning": f"list of {len(texts)} input strings (JSON, UTF-8); index i is row i of every per-text fixture"})

    # ---- sentence-transformers pipeline
    st = SentenceTransformer(model_dir, device="cpu")
    st.eval()
    st_max = st.max_seq_length
    tok = st.tokenizer
    modules = [type(m).__name__ for m in st]
    has_normalize = any(name == "Normalize" for name in modules)

    # ---- tokens.json: exactly what the pipeline feeds the model (SentenceTransformer.preprocess / tokenize).
    slow = BertTokenizer(os.path.join(model_dir, "vocab.txt"), do_lower_case=True, tokenize_chinese_chars=True)
    token_items = []
    slow_mismatch = []
    for i, t in enumerate(texts):
        feats = st.preprocess([t]) if hasattr(st, "preprocess") else st.tokenize([t])
        ids = feats["input_ids"][0].tolist()
        assert int(feats["attention_mask"][0].sum()) == len(ids)
        full = tok(t, truncation=False, add_special_tokens=True, verbose=False)["input_ids"]
        assert full[: len(ids) - 1] == ids[:-1], f"text {i}: truncated ids are not a prefix of the full ids"
        slow_full = slow(t, truncation=False, verbose=False)["input_ids"]
        if slow_full != full:
            slow_mismatch.append(i)
        token_items.append({
            "index": i,
            "input_ids": ids,
            "full_ids": full,
            "tokens": tok.convert_ids_to_tokens(ids),
            "n_full": len(full),
            "n_cut": len(full) - len(ids),
        })
    write_json(os.path.join(out, "tokens.json"), {
        "max_seq_length": st_max,
        "tokenizer": type(tok).__name__ + " from tokenizer.json (what SentenceTransformer uses)",
        "note": ("input_ids = SentenceTransformer.preprocess([text]) (= tokenize in older versions; the text is passed as is, [CLS] ... [SEP], "
                 "right truncation to max_seq_length, [SEP] kept at the end, no padding); full_ids = the same tokenizer "
                 "without truncation; n_cut = len(full_ids) - len(input_ids)."),
        "texts": token_items,
    })
    files.append({"file": "tokens.json", "meaning": "per text: input_ids (truncated at max_seq_length), full_ids (no truncation), tokens, n_full, n_cut"})

    # ---- embeddings at the folder's max length and at 128.
    emb = st.encode(texts, batch_size=8, normalize_embeddings=False, convert_to_numpy=True, show_progress_bar=False)
    a = write_npy(os.path.join(out, "embeddings.npy"), emb, "<f4")
    norms = np.linalg.norm(a.astype(np.float64), axis=1)
    files.append(file_entry(out, "embeddings.npy", a,
                            f"SentenceTransformer(model).encode(texts, batch_size=8, normalize_embeddings=False) at max_seq_length={st_max}; "
                            f"pipeline = {modules}, so rows are L2-normalised by the Normalize module "
                            f"(norms in [{norms.min():.7f}, {norms.max():.7f}])"))
    st.max_seq_length = 128
    emb128 = st.encode(texts, batch_size=8, normalize_embeddings=False, convert_to_numpy=True, show_progress_bar=False)
    st.max_seq_length = st_max
    a = write_npy(os.path.join(out, "embeddings_len128.npy"), emb128, "<f4")
    files.append(file_entry(out, "embeddings_len128.npy", a, "same as embeddings.npy with model.max_seq_length = 128"))
    differ128 = [i for i in range(len(texts)) if token_items[i]["n_full"] > 128]

    # ---- one padded batch: the first 4 non-empty texts with distinct token lengths.
    batch_idx, seen = [], set()
    for i, t in enumerate(texts):
        n = len(token_items[i]["input_ids"])
        if t.strip() and n not in seen:
            batch_idx.append(i)
            seen.add(n)
        if len(batch_idx) == 4:
            break
    batch_texts = [texts[i] for i in batch_idx]
    enc = tok(batch_texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    input_ids, attn = enc["input_ids"], enc["attention_mask"]
    assert int(enc["token_type_ids"].abs().sum()) == 0

    # Plain HF BertModel (eager attention, the textbook formula), eval mode: no dropout.
    bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager")
    bert.eval()
    with torch.no_grad():
        o = bert(input_ids=input_ids, attention_mask=attn, output_hidden_states=True)
    a = write_npy(os.path.join(out, "batch_input_ids.npy"), input_ids.numpy(), "<i4")
    files.append(file_entry(out, "batch_input_ids.npy", a, f"texts {batch_idx} tokenized together, padding=True (to the longest), truncation at 128; [PAD]=0; token_type_ids all 0"))
    a = write_npy(os.path.join(out, "batch_attention_mask.npy"), attn.numpy(), "<i4")
    files.append(file_entry(out, "batch_attention_mask.npy", a, "1 = real token, 0 = padding"))
    a = write_npy(os.path.join(out, "batch_layer0.npy"), o.hidden_states[0].numpy(), "<f4")
    files.append(file_entry(out, "batch_layer0.npy", a, "hidden_states[0]: output of BertEmbeddings (word + position + token_type(0), LayerNorm eps 1e-12), padding rows included"))
    a = write_npy(os.path.join(out, "batch_hidden.npy"), o.last_hidden_state.numpy(), "<f4")
    files.append(file_entry(out, "batch_hidden.npy", a, "last_hidden_state of BertModel (eval, eager attention, additive mask = finfo(float32).min on padded keys); padded rows are whatever HF computes there"))

    # Cross-check: mean pooling + normalise of this batch equals the pipeline embeddings of those texts.
    m = attn.unsqueeze(-1).float()
    pooled = (o.last_hidden_state * m).sum(1) / m.sum(1).clamp(min=1e-9)
    pooled = F.normalize(pooled, p=2, dim=1)
    batch_vs_pipeline = float((pooled.numpy() - emb[batch_idx]).__abs__().max())

    # Cross-check: each text alone through BertModel with its tokens.json ids reproduces embeddings.npy.
    single_vs_pipeline = 0.0
    with torch.no_grad():
        for i, item in enumerate(token_items):
            ids = torch.tensor([item["input_ids"]])
            h = bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            v = F.normalize(h.mean(1), p=2, dim=1)[0].numpy()
            single_vs_pipeline = max(single_vs_pipeline, float(np.abs(v - emb[i]).max()))

    # ---- gradients of L = sum_i sum_d emb[i, d] * w[d], w[d] = sin(d + 1), eval mode (no dropout), grads on.
    bert.zero_grad(set_to_none=True)
    for p in bert.parameters():
        p.requires_grad_(True)
    w = torch.from_numpy(np.sin(np.arange(1, 385, dtype=np.float64)).astype(np.float32))
    hs = bert(input_ids=input_ids, attention_mask=attn).last_hidden_state
    e = (hs * m).sum(1) / m.sum(1).clamp(min=1e-9)
    e = F.normalize(e, p=2, dim=1)
    L = (e * w).sum()
    L.backward()
    a = write_npy(os.path.join(out, "grads", "w.npy"), w.numpy(), "<f4")
    files.append(file_entry(out, "grads/w.npy", a, "w[d] = float32(sin(d + 1)), d = 0..383"))
    named = dict(bert.named_parameters())
    grad_info = {}
    wanted = [
        "embeddings.word_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "encoder.layer.0.attention.self.query.weight",
        "encoder.layer.3.intermediate.dense.bias",
        "encoder.layer.5.output.dense.weight",
        "encoder.layer.5.output.LayerNorm.bias",
    ]
    for name in wanted:
        g = named[name].grad.detach().numpy().astype(np.float32)
        g64 = g.astype(np.float64)
        stats = {"full_shape": list(g.shape), "sum": float(g64.sum()), "sum_abs": float(np.abs(g64).sum()),
                 "sum_sq": float((g64 * g64).sum()), "max_abs": float(np.abs(g64).max())}
        if name == "embeddings.word_embeddings.weight":
            ids = sorted(set(input_ids[attn.bool()].tolist()))
            nonzero = sorted(set(np.nonzero(np.abs(g).sum(1))[0].tolist()))
            assert set(nonzero) <= set(ids), f"unexpected non-zero gradient rows {set(nonzero) - set(ids)}"
            rel = f"grads/{name}.rows.npy"
            a = write_npy(os.path.join(out, rel), g[ids], "<f4")
            files.append(file_entry(out, rel, a, f"dL/d {name}, only rows of the token ids in grads/{name}.ids.npy (all other rows are exactly 0, [PAD]=0 included)"))
            b = write_npy(os.path.join(out, f"grads/{name}.ids.npy"), np.array(ids), "<i4")
            files.append(file_entry(out, f"grads/{name}.ids.npy", b, "sorted distinct token ids at non-padding positions of the batch; row k of .rows.npy belongs to ids[k]"))
            stats["stored"] = "rows of ids"
        elif name == "encoder.layer.5.output.dense.weight":
            rel = f"grads/{name}.rows0-63.npy"
            a = write_npy(os.path.join(out, rel), g[:64], "<f4")
            files.append(file_entry(out, rel, a, f"dL/d {name} (full shape {list(g.shape)} = [out, in]), rows 0..63 only to keep fixtures small; "
                                                 "check the full gradient with the sum / sum_abs / sum_sq / max_abs in manifest.gradients"))
            stats["stored"] = "rows 0..63"
        else:
            rel = f"grads/{name}.npy"
            a = write_npy(os.path.join(out, rel), g, "<f4")
            files.append(file_entry(out, rel, a, f"dL/d {name}, full, HF layout ([out, in] for Linear weights)"))
            stats["stored"] = "full"
        grad_info[name] = stats

    # ---- manifest
    header = safetensors_header(os.path.join(model_dir, "model.safetensors"))
    header.pop("__metadata__", None)
    names = sorted(header)
    prefix_bert = any(n.startswith("bert.") for n in names)
    with open(os.path.join(model_dir, "sentence_bert_config.json")) as f:
        sbert_cfg = json.load(f)
    manifest = {
        "generator": "Scripts/make_golden.py",
        "model_folder": os.path.relpath(model_dir, REPO_ROOT),
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
                     "sentence_transformers": sentence_transformers.__version__, "numpy": np.__version__,
                     "tokenizers": __import__("tokenizers").__version__},
        "threads": 1,
        "n_texts": len(texts),
        "max_seq_length": st_max,
        "max_seq_length_source": f"sentence_bert_config.json = {sbert_cfg}",
        "pipeline_modules": modules,
        "embeddings_normalized": has_normalize,
        "embedding_norm_range": [float(norms.min()), float(norms.max())],
        "texts_longer_than_128_tokens": differ128,
        "texts_longer_than_max_seq_length": [i for i in range(len(texts)) if token_items[i]["n_cut"] > 0],
        "slow_BertTokenizer_differs_from_fast_for": slow_mismatch,
        "text_preprocessing": "texts go to the tokenizer as is (sentence-transformers 6 does not strip them; older versions did, which changes nothing for BERT since leading/trailing whitespace is dropped by pre-tokenization); the tokenizer cleans control characters, splits CJK characters, lowercases and strips accents (do_lower_case=true, strip_accents=null -> follows lowercase)",
        "batch": {"text_indices": batch_idx, "texts": batch_texts, "seq_len": int(input_ids.shape[1]),
                  "max_abs_diff_mean_pool_normalize_vs_embeddings_npy": batch_vs_pipeline,
                  "max_abs_diff_single_text_tokens_json_vs_embeddings_npy": single_vs_pipeline,
                  "model": "transformers.AutoModel (BertModel), attn_implementation=eager, eval()"},
        "gradients": {
            "L": float(L.item()),
            "definition": "emb = L2-normalise(mean over attention_mask of last_hidden_state) for the batch; L = sum_i sum_d emb[i,d] * w[d]; model.eval() (no dropout) with requires_grad on every parameter",
            "weights": grad_info,
        },
        "weights": {
            "file": "model.safetensors",
            "has_bert_prefix": prefix_bert,
            "note": ("tensor names carry NO 'bert.' prefix (BertModel layout: embeddings.*, encoder.layer.N.*, pooler.*); "
                     "'embeddings.position_ids' is an int64 buffer [1, 512], not a weight; all weights are F32")
                    if not prefix_bert else "tensor names carry a 'bert.' prefix",
            "dtypes": sorted({v["dtype"] for v in header.values()}),
            "names": {n: {"dtype": header[n]["dtype"], "shape": header[n]["shape"]} for n in names},
        },
        "npy_format": "little-endian, C order, .npy version 1.0 header",
        "files": files,
    }
    write_json(os.path.join(out, "manifest.json"), manifest)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    print(f"make_golden: {len(texts)} texts, batch {batch_idx} (T={input_ids.shape[1]}), L={L.item():.6f}, "
          f"normalized={has_normalize}, max_seq_length={st_max}, slow!=fast for {slow_mismatch}, "
          f"batch-vs-pipeline max diff {batch_vs_pipeline:.2e}, single-vs-pipeline {single_vs_pipeline:.2e}; {total / 1e6:.2f} MB in {out}")


if __name__ == "__main__":
    main()
