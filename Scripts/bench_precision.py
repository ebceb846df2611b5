#!/usr/bin/env python3
"""Reduced-precision encode benchmark (issue 21): RecAlign fp32 / int8 / bf16 beside ONNX Runtime fp32, ONNX Runtime
dynamic int8 and PyTorch bf16 autocast, in one run, 2 threads, batch 32, lengths 32 and 128, and the 1682 ml-100k titles.

Peers, each in its own subprocess:
  * ort-fp32: the BertModel exported to ONNX (Scripts/export_onnx.py, cached), all graph optimisations;
  * ort-int8: the same export through onnxruntime.quantization.quantize_dynamic(per_channel=True,
    weight_type=QInt8) (cached), the usual production choice;
  * torch-bf16: transformers AutoModel under torch.autocast("cpu", dtype=torch.bfloat16), only where the CPU has
    AVX-512 BF16 or AMX (on other CPUs PyTorch emulates bf16 and the row would not be a fair peer).
Synthetic batches as in Scripts/bench_encode.py (B x T real-token ids, no padding); times are best of --reps after a
warm-up. Titles: the 1682 item texts ("{title} ({year}) {genres}") tokenized by the model's fast tokenizer,
sorted by length and padded per batch of 32 (as RecAlign's encode does), mean pooling and normalisation included.
RecAlign: EncodeBench --precision P (P = fp32, int8, bf16) prints the kernel it ran, then its JSON line.
--rounds R alternates the order of all runs (forward, then reversed) and keeps each one's best.

With --golden it measures quality instead: the cosine of each of the 51 golden sentences
(Tests/Fixtures/golden/texts.json) to sentence-transformers' float32 embeddings (embeddings.npy), for
`recalign encode --precision P` (P = fp32, int8, bf16; add ONEDNN_MAX_CPU_ISA=AVX2 to the environment for the
AVX2 dispatch) and for ONNX Runtime int8, each sentence alone (no padding); worst and mean.

Usage (dev venv, from the repository root, after `swift build -c release --product EncodeBench --product recalign`):
  /work/venv/bin/python Scripts/bench_precision.py [--json runs/bench_precision.json]
  /work/venv/bin/python Scripts/bench_precision.py --golden
"""

import argparse
import json
import os
import sys
import tempfile

import bench_encode as be

SCRIPT = os.path.abspath(__file__)


def has_native_bf16():
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def ensure_int8(fp32_path):
    """The dynamic int8 quantization of the ONNX export (per channel, QInt8 weights), cached beside it."""
    path = fp32_path.replace(".onnx", "-int8-perchannel.onnx")
    if os.path.isfile(path):
        return path
    from onnxruntime.quantization import QuantType, quantize_dynamic
    be.log(f"quantizing -> {path}")
    quantize_dynamic(fp32_path, path, per_channel=True, weight_type=QuantType.QInt8)
    return path


def title_batches(a):
    """The titles as padded numpy batches of a.batch, sorted by token count (RecAlign's length bucketing)."""
    import numpy as np
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(a.model)
    titles = be.item_texts(a.corpus)
    ids = tok(titles, add_special_tokens=True, truncation=True, max_length=256)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    out = []
    for s in range(0, len(order), a.batch):
        group = [ids[i] for i in order[s:s + a.batch]]
        t = max(len(g) for g in group)
        x = np.zeros((len(group), t), dtype=np.int64)
        m = np.zeros((len(group), t), dtype=np.int64)
        for r, g in enumerate(group):
            x[r, :len(g)] = g
            m[r, :len(g)] = 1
        out.append((x, m))
    return out


def timed_titles(a, encode_batch):
    batches = title_batches(a)
    run = lambda: [encode_batch(x, m) for x, m in batches]  # noqa: E731
    best, ts = be.timed_best(run, a.title_reps, a.title_budget)
    return {"titles_seconds": best, "titles_all": ts}


def timed_peer(a, info, encode_batch):
    """`info` with sentences/s of `encode_batch(ids, mask)` on each synthetic length and the titles' time."""
    import numpy as np
    res = dict(info, peer=a.peer, sentences_per_s={})
    for t in a.lengths:
        ids = be.synthetic_ids(a.model, a.batch, t, seed=t)
        best, _ = be.timed_best(lambda: encode_batch(ids, np.ones_like(ids)), a.reps, a.budget)
        res["sentences_per_s"][str(t)] = a.batch / best
    res.update(timed_titles(a, encode_batch))
    return res


def worker_ort(a):
    import numpy as np
    import onnxruntime as ort
    sess = be.ort_session(a.onnx, a.threads)

    def encode_batch(ids, mask):
        h = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
        return be.mean_pool_normalize_np(h, mask)
    return timed_peer(a, {"onnxruntime": ort.__version__, "threads": a.threads}, encode_batch)


def worker_torch_bf16(a):
    import torch
    from transformers import AutoModel
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    model = AutoModel.from_pretrained(a.model).eval()

    def encode_batch(ids, mask):
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            h = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        h = h.float()
        m = mask.unsqueeze(-1).float()
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1)
    return timed_peer(a, {"torch": torch.__version__, "threads": torch.get_num_threads()}, encode_batch)


def golden_quality(a):
    """Worst and mean cosine to the float32 reference over the golden sentences, per precision and for ORT int8."""
    import subprocess
    import numpy as np
    from transformers import AutoTokenizer
    gdir = os.path.join(be.REPO_ROOT, "Tests", "Fixtures", "golden")
    with open(os.path.join(gdir, "texts.json"), encoding="utf-8") as f:
        texts = json.load(f)
    ref = np.load(os.path.join(gdir, "embeddings.npy"))

    def report(label, emb):
        c = (emb * ref).sum(1) / np.linalg.norm(emb, axis=1) / np.linalg.norm(ref, axis=1)
        print(f"| {label} | {c.min():.5f} | {c.mean():.5f} | {int((c >= 0.999).sum())} of {len(c)} |")
    print("| run | worst cosine | mean cosine | sentences >= 0.999 |\n|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "texts.txt")
        with open(src, "w", encoding="utf-8") as f:
            f.write("".join(t.replace("\n", " ") + "\n" for t in texts))
        for p in ("fp32", "int8", "bf16"):
            out = os.path.join(d, p + ".npy")
            r = subprocess.run([a.recalign, "encode", "--model", a.model, "--input", src, "--output", out, "--precision", p],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                sys.exit(f"bench_precision: recalign encode --precision {p} failed: {r.stderr.strip()}")
            kernel = next((ln for ln in r.stderr.splitlines() if ln.startswith("precision ")), "")
            report(f"RecAlign {p}" + (f" ({kernel})" if kernel else ""), np.load(out))
    env = be.thread_env(a.threads)
    sess = be.ort_session(ensure_int8(be.ensure_onnx(a, env)), a.threads)
    tok = AutoTokenizer.from_pretrained(a.model)
    rows = []
    for t in texts:
        b = tok([t], return_tensors="np", truncation=True, max_length=256)
        h = sess.run(["last_hidden_state"], {"input_ids": b["input_ids"], "attention_mask": b["attention_mask"],
                                             "token_type_ids": np.zeros_like(b["input_ids"])})[0]
        rows.append(be.mean_pool_normalize_np(h, b["attention_mask"])[0])
    report("ONNX Runtime int8 (quantize_dynamic, per channel)", np.array(rows))


WORKERS = {"ort-fp32": worker_ort, "ort-int8": worker_ort, "torch-bf16": worker_torch_bf16}


def better(old, new):
    if old is None:
        return new
    out = dict(new)
    out["sentences_per_s"] = {k: max(old["sentences_per_s"].get(k, 0), v) for k, v in new["sentences_per_s"].items()}
    if "titles_seconds" in old and "titles_seconds" in new:
        out["titles_seconds"] = min(old["titles_seconds"], new["titles_seconds"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(be.REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--corpus", default=os.path.join(be.REPO_ROOT, "corpora", "ml-100k"))
    ap.add_argument("--encode-bench", default=os.path.join(be.REPO_ROOT, ".build", "release", "EncodeBench"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lengths", default="32,128")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--title-reps", type=int, default=3)
    ap.add_argument("--budget", type=float, default=20.0)
    ap.add_argument("--title-budget", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "recalign-bench"))
    ap.add_argument("--json", help="also write every raw figure here")
    ap.add_argument("--golden", action="store_true", help="measure quality on the golden sentences instead of speed")
    ap.add_argument("--recalign", default=os.path.join(be.REPO_ROOT, ".build", "release", "recalign"))
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--onnx", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.lengths = [int(x) for x in a.lengths.split(",")]
    if a.worker:
        a.peer = a.worker
        print(json.dumps(WORKERS[a.worker](a)))
        return
    os.makedirs(a.cache, exist_ok=True)
    if a.golden:
        golden_quality(a)
        return
    env = be.thread_env(a.threads)
    fp32 = be.ensure_onnx(a, env)
    if not fp32:
        sys.exit("bench_precision: the ONNX export failed")
    int8 = ensure_int8(fp32)
    common = ["--model", a.model, "--corpus", a.corpus, "--batch", str(a.batch), "--lengths", ",".join(map(str, a.lengths)),
              "--reps", str(a.reps), "--title-reps", str(a.title_reps), "--budget", str(a.budget),
              "--title-budget", str(a.title_budget), "--threads", str(a.threads)]
    runs = {"ort-fp32": [sys.executable, SCRIPT, "--worker", "ort-fp32", "--onnx", fp32] + common,
            "ort-int8": [sys.executable, SCRIPT, "--worker", "ort-int8", "--onnx", int8] + common}
    if has_native_bf16():
        runs["torch-bf16"] = [sys.executable, SCRIPT, "--worker", "torch-bf16"] + common
    for p in ("fp32", "int8", "bf16"):
        runs[f"recalign-{p}"] = [a.encode_bench, "--model", a.model, "--batch", str(a.batch), "--precision", p,
                                 "--lengths", ",".join(map(str, a.lengths)), "--titles", a.corpus, "--reps", str(a.reps)]
    best = {}
    names = list(runs)
    for r in range(a.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            be.log(f"round {r + 1}: {name} (load {be.load_average()})")
            res, rss, _, err = be.run_child(runs[name], env=env, label=name)
            if err:
                sys.exit(f"bench_precision: {err}")
            res["peak_rss_mb"] = rss
            best[name] = better(best.get(name), res)
    peers = [n for n in best if not n.startswith("recalign")]
    print(f"\nCPU: {cpu_model()}; native bf16: {'yes' if has_native_bf16() else 'no'}; {a.threads} threads, batch {a.batch}")
    for p in ("int8", "bf16"):
        k = best[f"recalign-{p}"].get("kernel")
        if k:
            print(f"RecAlign {p}: {k}")
    lens = [str(t) for t in a.lengths]
    print("\n| run | " + " | ".join(f"len {t} (sent/s)" for t in lens) + " | 1682 titles (s) | peak RSS (MB) |")
    print("|---|" + "---|" * (len(lens) + 2))
    for n in names:
        r = best[n]
        print(f"| {n} | " + " | ".join(f"{r['sentences_per_s'][t]:.1f}" for t in lens)
              + f" | {r.get('titles_seconds', float('nan')):.2f} | {r['peak_rss_mb']:.0f} |")
    print()
    int8 = best["recalign-int8"]
    for t in lens:
        fastest = max(peers, key=lambda n: best[n]["sentences_per_s"][t])
        print(f"len {t}: RecAlign int8 / fastest peer ({fastest}) = "
              f"{int8['sentences_per_s'][t] / best[fastest]['sentences_per_s'][t]:.2f}x; "
              f"/ RecAlign fp32 = {int8['sentences_per_s'][t] / best['recalign-fp32']['sentences_per_s'][t]:.2f}x; "
              f"bf16 / fp32 = {best['recalign-bf16']['sentences_per_s'][t] / best['recalign-fp32']['sentences_per_s'][t]:.2f}x")
    fastest = min(peers, key=lambda n: best[n]["titles_seconds"])
    print(f"titles: RecAlign int8 / fastest peer ({fastest}) = {best[fastest]['titles_seconds'] / int8['titles_seconds']:.2f}x; "
          f"/ RecAlign fp32 = {best['recalign-fp32']['titles_seconds'] / int8['titles_seconds']:.2f}x")
    if a.json:
        be.atomic_write_json(a.json, {"cpu": cpu_model(), "load": be.load_average(), "runs": best})


if __name__ == "__main__":
    main()
