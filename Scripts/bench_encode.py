#!/usr/bin/env python3
"""Encode-throughput benchmark of all-MiniLM-L6-v2, RecAlign side by side with its Python peers, in one command.

Peers, each in its own subprocess (so that its peak RSS is its own), 2 threads each:
  * bare sgemm: numpy float32 [2048,384] x [384,1536] (numpy's bundled OpenBLAS), and the same product
    through the system OpenBLAS (libopenblas.so.0, the library RecAlign links) via ctypes;
  * PyTorch eager: transformers AutoModel + mean pooling + L2 normalisation under torch.inference_mode();
  * ONNX Runtime: the same BertModel exported to ONNX (Scripts/export_onnx.py, cached), pooling in numpy;
  * sentence-transformers: SentenceTransformer(model).encode(item texts, batch_size=32) on the 1682 ml-100k
    item texts ("{title} ({year}) {genres}", PROTOCOL.md section 5) at its default max length.
Synthetic batches (PyTorch, ONNX Runtime, and what RecAlign is asked to run): batch B x fixed length T,
ids uniform in [999, vocab) (real WordPiece rows; below 999 are [PAD], [unusedN], [UNK], [CLS], [SEP],
[MASK]), position 0 = [CLS], position T-1 = [SEP], attention mask all ones, token types 0, no padding.
Times: best of --reps after one warm-up call (titles: best of --title-reps after a short warm-up encode);
model loading is never timed. --rounds R (default 2) repeats every peer and RecAlign R times in alternating
order (forward, then reversed) and keeps each one's best, so that load drifting during the run favours no one.

With --recalign-encode CMD (when its binary exists; CMD = .build/release/EncodeBench, or
"OLD/recalign bench-encode" for a build from before the benchmarks left the CLI) it then runs
  CMD --model DIR --batch 32 --lengths 32,128 --titles CORPUS_DIR --reps 5
which prints on its last stdout line a JSON object
  {"sentences_per_s": {"32": x, "128": y}, "titles_seconds": z, "gflops_128": g, "sgemm_gflops": s, "peak_rss_mb": m}
and prints one Markdown table with every row, then the ratios against the targets of issue 3.

Usage (dev venv, offline; from the repository root):
  /work/venv/bin/python Scripts/bench_encode.py [--model checkpoints/all-MiniLM-L6-v2] [--corpus corpora/ml-100k]
      [--recalign-encode .build/release/EncodeBench] [--json runs/bench_encode.json]
"""

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import ml100k

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# RecAlign's benchmark binaries (Benchmarks/), and the subcommand that ran the same benchmark in the CLI before
# they moved out of it (builds up to 255c742).
DEFAULT_BINARY = {"encode": "EncodeBench", "train": "TrainBench"}
LEGACY_SUBCOMMAND = {"encode": "bench-encode", "train": "bench-train"}


def recalign_command(spec, job):
    """The argv prefix that runs RecAlign's `job` benchmark (encode | train) from a --recalign-JOB value: a binary
    path, optionally followed by arguments ("OLD/recalign bench-encode"); a bare path to a binary named
    `recalign` gets the old CLI's subcommand appended. None when the binary does not exist."""
    parts = shlex.split(spec or "")
    if not parts:
        return None
    binary = parts[0]
    found = binary if os.path.isfile(binary) else (shutil.which(binary) if os.sep not in binary else None)
    if not found:
        return None
    if len(parts) == 1 and os.path.basename(binary) == "recalign":
        parts.append(LEGACY_SUBCOMMAND[job])
    return [os.path.abspath(found)] + parts[1:]


SCRIPT = os.path.abspath(__file__)
FIRST_REAL_TOKEN = 999  # bert-base-uncased vocab: rows 999.. are real WordPiece tokens ("!" first)
SGEMM_SHAPE = (2048, 384, 1536)  # M, K, N


# ---------------------------------------------------------------------------------------------------------
# Shared helpers (bench_train_step.py imports these; nothing heavy is imported at module level).

def load_average():
    """The 1/5/15-minute load averages as a string, e.g. '7.83 9.56 8.04'."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def thread_env(threads):
    """The environment of a child process with every BLAS / OpenMP / tokenizer pool capped at `threads`."""
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[key] = str(threads)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "true")
    return env


def run_child(cmd, env=None, label=None):
    """Runs `cmd` with stderr passed through, parses the JSON object on its last non-empty stdout line.

    Returns (result dict or None, peak RSS in MB of that child measured by wait4, wall seconds, error text or None).
    """
    label = label or os.path.basename(cmd[0])
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)
    except OSError as e:
        return None, None, 0.0, f"{label}: cannot start {cmd[0]}: {e}"
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    rss_mb = usage.ru_maxrss / 1024.0  # Linux: kilobytes
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if proc.returncode != 0:
        tail = "\n".join(lines[-5:])
        return None, rss_mb, wall, f"{label}: exit status {proc.returncode}" + (f"; last output:\n{tail}" if tail else "")
    if not lines:
        return None, rss_mb, wall, f"{label}: printed nothing on stdout (expected one JSON object on its last line)"
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError as e:
        return None, rss_mb, wall, f"{label}: last stdout line is not JSON ({e}): {lines[-1][:200]!r}"
    if not isinstance(result, dict):
        return None, rss_mb, wall, f"{label}: last stdout line is JSON but not an object: {lines[-1][:200]!r}"
    return result, rss_mb, wall, None


def worker_cmd(script, name, args_list):
    """The command line that runs `script`'s hidden worker `name` in the same interpreter."""
    return [sys.executable, script, "--worker", name] + args_list


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def atomic_write_json(path, obj):
    """Writes `obj` as JSON to `path` through a temp file and a rename."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def read_bert_config(model_dir):
    """(layers, hidden, ffn, vocab) from the model folder's config.json."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    return c["num_hidden_layers"], c["hidden_size"], c["intermediate_size"], c["vocab_size"]


def bert_forward_flops(model_dir, batch, length):
    """FLOPs of one BERT forward: 2·N·(4·H·H + 2·H·F)·L (projections + FFN) + 2·2·B·T·T·H·L (attention), N = B·T.

    Returned as (linear part, attention part)."""
    layers, h, f, _ = read_bert_config(model_dir)
    n = batch * length
    return 2.0 * n * (4 * h * h + 2 * h * f) * layers, 2.0 * 2.0 * batch * length * length * h * layers


def special_ids(model_dir):
    """([CLS] id, [SEP] id) read from vocab.txt (101, 102 for all-MiniLM-L6-v2)."""
    with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
        vocab = {tok.rstrip("\n"): i for i, tok in enumerate(f)}
    return vocab["[CLS]"], vocab["[SEP]"]


def synthetic_ids(model_dir, batch, length, seed):
    """int64 [batch, length] ids: [CLS], uniform real-token ids in [999, vocab), [SEP]; no padding."""
    import numpy as np
    _, _, _, vocab = read_bert_config(model_dir)
    cls, sep = special_ids(model_dir)
    rng = np.random.default_rng(seed)
    ids = rng.integers(FIRST_REAL_TOKEN, vocab, size=(batch, length), dtype=np.int64)
    ids[:, 0] = cls
    ids[:, -1] = sep
    return ids


def measure_sgemm(threads, reps=10):
    """Hidden worker body: bare sgemm GFLOP/s with numpy and with the system OpenBLAS through ctypes."""
    import ctypes
    import ctypes.util
    import numpy as np
    m, k, n = SGEMM_SHAPE
    flops = 2.0 * m * k * n
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    c = np.empty((m, n), dtype=np.float32)

    def best(fn):
        return timed_best(fn, reps, 0)[0]

    out = {"shape": [m, k, n], "threads": threads,
           "numpy_gflops": flops / best(lambda: np.dot(a, b, out=c)) / 1e9, "numpy_version": np.__version__}
    try:
        cfg = np.show_config(mode="dicts")
        out["numpy_blas"] = cfg.get("Build Dependencies", {}).get("blas", {}).get("name")
    except Exception:  # noqa: BLE001 - informative only
        pass
    lib_path = None
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib_path = name
            break
        except OSError:
            continue
    if lib_path:
        try:
            lib.openblas_set_num_threads(ctypes.c_int(threads))
        except AttributeError:
            pass
        f = ctypes.c_float
        ptr = ctypes.POINTER(ctypes.c_float)
        pa, pb, pc = (x.ctypes.data_as(ptr) for x in (a, b, c))

        def sys_sgemm():  # row-major C = A·B
            lib.cblas_sgemm(101, 111, 111, m, n, k, f(1.0), pa, k, pb, n, f(0.0), pc, n)
        out["system_openblas_gflops"] = flops / best(sys_sgemm) / 1e9
        out["system_openblas"] = lib_path
    return out


# ---------------------------------------------------------------------------------------------------------
# Worker bodies (each runs in its own subprocess).

def mean_pool_normalize_np(hidden, mask):
    import numpy as np
    m = mask[..., None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def timed_best(fn, reps, budget):
    """Best and all wall times of up to `reps` calls of `fn` after one warm-up call.

    Stops early (after at least one timed call) once the timed calls have taken `budget` seconds
    (budget <= 0: no limit), so that a loaded machine does not stretch the run to many minutes."""
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        if 0 < budget <= sum(ts):
            break
    return min(ts), ts


def torch_runners(a):
    """PyTorch eager (transformers AutoModel, mean pooling, L2 normalisation, inference mode): ({length: run}, info),
    run() encoding the synthetic batch of that length once."""
    import torch
    from transformers import AutoModel
    import transformers
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    model = AutoModel.from_pretrained(a.model).eval()
    runs = {}
    for t in a.lengths:
        ids = torch.from_numpy(synthetic_ids(a.model, a.batch, t, seed=t))
        mask, types = torch.ones_like(ids), torch.zeros_like(ids)

        def run(ids=ids, mask=mask, types=types):
            with torch.inference_mode():
                h = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
                m = mask.unsqueeze(-1).to(h.dtype)
                pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)
        runs[t] = run
    info = {"peer": "pytorch", "torch": torch.__version__, "transformers": transformers.__version__,
            "attn_implementation": getattr(model.config, "_attn_implementation", None), "threads": torch.get_num_threads()}
    return runs, info


def ort_session(path, threads):
    """An ONNX Runtime CPU session of `path`: `threads` intra-op threads, sequential, all graph optimisations."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_runners(a):
    """ONNX Runtime (the exported BertModel, all graph optimisations, pooling in numpy): ({length: run}, info)."""
    import numpy as np
    import onnxruntime as ort
    sess = ort_session(a.onnx, a.threads)
    runs = {}
    for t in a.lengths:
        ids = synthetic_ids(a.model, a.batch, t, seed=t)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}

        def run(feed=feed):
            h = sess.run(["last_hidden_state"], feed)[0]
            return mean_pool_normalize_np(h, feed["attention_mask"])
        runs[t] = run
    return runs, {"peer": "onnxruntime", "onnxruntime": ort.__version__, "onnx_file": a.onnx, "threads": a.threads}


def timed_runners(a, runs, info):
    """Times every length's run with timed_best into info's sentences_per_s and seconds."""
    res = dict(info, sentences_per_s={}, seconds={})
    for t, run in runs.items():
        best, ts = timed_best(run, a.reps, a.budget)
        res["sentences_per_s"][str(t)] = a.batch / best
        res["seconds"][str(t)] = ts
    return res


def worker_torch(a):
    return timed_runners(a, *torch_runners(a))


def worker_ort(a):
    return timed_runners(a, *ort_runners(a))


def item_texts(corpus):
    """The ml-100k item texts (PROTOCOL.md section 5) in item-id order."""
    texts = ml100k.item_texts(corpus)
    return [texts[i] for i in sorted(texts, key=lambda i: int(i) if i.isdigit() else i)]


def worker_st(a):
    import torch
    import sentence_transformers
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    titles = item_texts(a.corpus)
    model = SentenceTransformer(a.model, device="cpu")
    tok = model.tokenizer(titles, add_special_tokens=True, truncation=True, max_length=model.max_seq_length)
    n_tokens = [len(x) for x in tok["input_ids"]]
    model.encode(titles[:64], batch_size=a.batch, show_progress_bar=False)  # warm-up
    ts = []
    for _ in range(a.title_reps):
        t0 = time.perf_counter()
        emb = model.encode(titles, batch_size=a.batch, show_progress_bar=False)
        ts.append(time.perf_counter() - t0)
        if 0 < a.title_budget <= sum(ts):
            break
    return {"peer": "sentence-transformers", "sentence_transformers": sentence_transformers.__version__,
            "torch": torch.__version__, "threads": torch.get_num_threads(), "n_titles": len(titles),
            "mean_tokens": sum(n_tokens) / len(n_tokens), "max_tokens": max(n_tokens),
            "max_seq_length": model.max_seq_length, "titles_seconds": min(ts), "seconds": ts,
            "embedding_shape": list(emb.shape)}


def worker_sgemm(a):
    return measure_sgemm(a.threads)


WORKERS = {"torch": worker_torch, "ort": worker_ort, "st": worker_st, "sgemm": worker_sgemm}


def vm_hwm_mb():
    """This process's peak RSS (VmHWM) in MB, or ru_maxrss when /proc is absent."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------------------------------------
# Driver.

def fmt(x, spec=".1f", dash="–"):
    return dash if x is None else format(x, spec)


def verdict(ok):
    return "met" if ok else "MISSED"


def ensure_onnx(args, env):
    """Path of the cached ONNX export of args.model, exporting it (own subprocess) when absent."""
    st = os.stat(os.path.join(args.model, "model.safetensors"))
    key = f"{os.path.basename(os.path.normpath(args.model))}-{st.st_size}-{int(st.st_mtime)}-opset17.onnx"
    path = os.path.join(args.cache, key)
    if os.path.isfile(path):
        return path
    log(f"exporting ONNX -> {path}")
    cmd = [sys.executable, os.path.join(os.path.dirname(SCRIPT), "export_onnx.py"), "--model", args.model, "--out", path]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0 or not os.path.isfile(path):
        return None
    return path


def merge_best(old, new):
    """The better of two results of one peer: highest sentences/s per length (and the GFLOP/s that go with
    them), lowest title time; the timing lists are concatenated."""
    if old is None:
        return new
    out = dict(new)
    sps_old, sps_new = old.get("sentences_per_s", {}), new.get("sentences_per_s", {})
    if sps_old or sps_new:
        out["sentences_per_s"] = {k: max(sps_old.get(k, 0), sps_new.get(k, 0)) for k in set(sps_old) | set(sps_new)}
    for key in ("gflops_128", "sgemm_gflops"):
        if key in old or key in new:
            out[key] = max(old.get(key) or 0, new.get(key) or 0)
    if "titles_seconds" in old or "titles_seconds" in new:
        out["titles_seconds"] = min(x for x in (old.get("titles_seconds"), new.get("titles_seconds")) if x is not None)
    if isinstance(old.get("seconds"), dict) and isinstance(new.get("seconds"), dict):
        out["seconds"] = {k: old["seconds"].get(k, []) + new["seconds"].get(k, []) for k in set(old["seconds"]) | set(new["seconds"])}
    elif isinstance(old.get("seconds"), list) and isinstance(new.get("seconds"), list):
        out["seconds"] = old["seconds"] + new["seconds"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--model", default=os.path.join(REPO_ROOT, "checkpoints", "all-MiniLM-L6-v2"))
    ap.add_argument("--corpus", default=os.path.join(REPO_ROOT, "corpora", "ml-100k"), help="ml-100k atomic-files folder")
    ap.add_argument("--recalign-encode", "--recalign", dest="recalign", metavar="CMD",
                    help="command that runs RecAlign's encode benchmark: .build/release/EncodeBench, or "
                         "'OLD/recalign bench-encode' for a build from before it left the CLI (skipped when absent)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lengths", default="32,128", help="comma-separated fixed lengths (incl. [CLS] and [SEP])")
    ap.add_argument("--reps", type=int, default=5, help="timed calls per length (best is kept)")
    ap.add_argument("--title-reps", type=int, default=3, help="timed encodes of the title list (best is kept)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="rounds over all peers and RecAlign in alternating order; each one's best is kept")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="seconds of timed calls per length after which a peer stops repeating (<= 0: always --reps)")
    ap.add_argument("--title-budget", type=float, default=60.0, help="the same for the title encodes")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--peers", default="sgemm,torch,ort,st", help="subset of sgemm,torch,ort,st")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "recalign-bench"), help="folder of the ONNX export")
    ap.add_argument("--json", help="also write every raw figure to this JSON file")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--onnx", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.lengths = [int(x) for x in args.lengths.split(",") if x.strip()]

    if args.worker:
        res = WORKERS[args.worker](args)
        res["vm_hwm_mb"] = vm_hwm_mb()
        print(json.dumps(res))
        return

    args.model = os.path.abspath(args.model)
    args.corpus = os.path.abspath(args.corpus)
    for path, what, hint in ((os.path.join(args.model, "config.json"), "model folder", "checkpoints/fetch_model.sh"),
                             (os.path.join(args.corpus, "ml-100k.item"), "ml-100k folder", "corpora/fetch_ml100k.sh")):
        if not os.path.isfile(path):
            sys.exit(f"bench_encode: {path} not found: no {what} (run {hint} or pass --model / --corpus)")
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in WORKERS]
    if unknown:
        sys.exit(f"bench_encode: --peers: unknown peer(s) {unknown}; known: {sorted(WORKERS)}")

    env = thread_env(args.threads)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_start = load_average()
    log(f"start {started}, load average {load_start}, {os.cpu_count()} CPUs, {args.threads} threads per peer")
    common = ["--model", args.model, "--corpus", args.corpus, "--batch", str(args.batch),
              "--lengths", ",".join(map(str, args.lengths)), "--reps", str(args.reps),
              "--title-reps", str(args.title_reps), "--threads", str(args.threads),
              "--budget", str(args.budget), "--title-budget", str(args.title_budget)]
    results, rss, errors = {}, {}, []

    def run_peer(peer):
        extra = []
        if peer == "ort":
            onnx_path = ensure_onnx(args, env)
            if onnx_path is None:
                errors.append("ort: ONNX export failed")
                return
            extra = ["--onnx", onnx_path]
        log(f"peer {peer} ...")
        res, rss_mb, wall, err = run_child(worker_cmd(SCRIPT, peer, common + extra), env=env, label=peer)
        if err:
            errors.append(err)
            log(err)
            return
        results[peer] = merge_best(results.get(peer), res)
        rss[peer] = max(rss.get(peer, 0), rss_mb)
        log(f"peer {peer}: done in {wall:.0f} s, peak RSS {rss_mb:.0f} MB")

    recalign = None

    def run_recalign():
        nonlocal recalign
        prefix = recalign_command(args.recalign, "encode")
        if prefix is None:
            log(f"--recalign-encode {args.recalign}: no such file; RecAlign row skipped")
            return
        cmd = prefix + ["--model", args.model, "--batch", str(args.batch),
                        "--lengths", ",".join(map(str, args.lengths)), "--titles", args.corpus, "--reps", str(args.reps)]
        log("RecAlign: " + " ".join(cmd))
        res, rss_mb, wall, err = run_child(cmd, env=env, label="recalign")
        if err:
            errors.append(err)
            log(err)
            return
        recalign = merge_best(recalign, res)
        rss["recalign"] = max(rss.get("recalign", 0), rss_mb)
        log(f"RecAlign: done in {wall:.0f} s, peak RSS {rss_mb:.0f} MB")

    # Rounds in alternating order (peers then RecAlign, then RecAlign then peers reversed, ...), each peer's best
    # kept: a host whose load drifts during the run then penalises no one for running last. sgemm runs once first.
    timed = [p for p in peers if p != "sgemm"]
    if "sgemm" in peers:
        run_peer("sgemm")
    for rnd in range(args.rounds):
        order = timed + (["recalign"] if args.recalign else [])
        if rnd % 2 == 1:
            order = order[::-1]
        log(f"round {rnd + 1} of {args.rounds}: {', '.join(order)}")
        for peer in order:
            run_recalign() if peer == "recalign" else run_peer(peer)

    if "sgemm" in peers:  # again at the end: the host load drifts, the ceiling is the better of the two
        res, _, _, err = run_child(worker_cmd(SCRIPT, "sgemm", common), env=env, label="sgemm (end)")
        if err:
            errors.append(err)
        else:
            results["sgemm_end"] = res

    load_end = load_average()
    report = {"started": started, "load_average_start": load_start, "load_average_end": load_end,
              "cpus": os.cpu_count(), "threads": args.threads, "batch": args.batch, "lengths": args.lengths,
              "reps": args.reps, "title_reps": args.title_reps, "model": args.model, "corpus": args.corpus,
              "peers": results, "peak_rss_mb": rss, "recalign": recalign, "errors": errors}
    print_report(args, report)
    if args.json:
        atomic_write_json(args.json, report)
    if errors:
        sys.exit(1)


def print_report(args, r):
    res, rss, ra = r["peers"], r["peak_rss_mb"], r["recalign"]
    lengths = args.lengths
    t_flop = 128 if 128 in lengths else max(lengths)
    lin, att = bert_forward_flops(args.model, args.batch, t_flop)
    gflop_batch = (lin + att) / 1e9
    sg, sg_end = res.get("sgemm", {}), res.get("sgemm_end", {})
    sgemm = max([x["numpy_gflops"] for x in (sg, sg_end) if x.get("numpy_gflops")], default=None)

    def gflops(sps):  # sentences/s at t_flop -> GFLOP/s
        return None if sps is None else sps / args.batch * gflop_batch

    def pct(g, ref):
        return "" if g is None or not ref else f" ({100 * g / ref:.0f}%)"

    print(f"\n## Encode throughput: all-MiniLM-L6-v2, batch {args.batch}, {args.threads} threads, "
          f"best of up to {args.reps} (titles: up to {args.title_reps})\n")
    print(f"{r['started']}; load average {r['load_average_start']} at start, {r['load_average_end']} at end "
          f"({r['cpus']} CPUs; the machine is shared, so only figures of the same run compare).")
    if sgemm:
        def both(key):
            return " / ".join(f"{x[key]:.0f}" for x in (sg, sg_end) if x.get(key))
        line = (f"Bare sgemm [{SGEMM_SHAPE[0]},{SGEMM_SHAPE[1]}]x[{SGEMM_SHAPE[1]},{SGEMM_SHAPE[2]}], {args.threads} threads, "
                f"GFLOP/s at start / end: numpy {sg.get('numpy_version')} ({sg.get('numpy_blas')}) {both('numpy_gflops')}")
        if sg.get("system_openblas_gflops"):
            line += f"; system OpenBLAS ({sg['system_openblas']}) {both('system_openblas_gflops')}"
        if ra and ra.get("sgemm_gflops"):
            line += f"; RecAlign's own sgemm {ra['sgemm_gflops']:.0f} GFLOP/s"
        print(line + f". % of sgemm below = of numpy's better figure ({sgemm:.0f}). "
              f"One forward at T={t_flop}: {gflop_batch:.1f} GFLOP per batch.")
    counts = []
    for key, name in (("torch", "PyTorch"), ("ort", "ONNX Runtime")):
        if key in res:
            counts.append(f"{name} " + ", ".join(f"@{t} {len(res[key]['seconds'][str(t)])}" for t in lengths))
    if "st" in res:
        counts.append(f"sentence-transformers titles {len(res['st']['seconds'])}")
    if counts:
        print(f"Timed calls kept over {args.rounds} round(s) in alternating order (--budget {args.budget:g} s, "
              f"--title-budget {args.title_budget:g} s): " + "; ".join(counts) + ".")
    print()
    head = ["peer"] + [f"sent/s @{t}" for t in lengths] + [f"GFLOP/s @{t_flop} (% of sgemm)", "titles s", "peak RSS MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    rows = []
    if "torch" in res:
        p = res["torch"]
        rows.append((f"PyTorch eager (torch {p['torch'].split('+')[0]}, transformers {p['transformers']}, "
                     f"attn {p['attn_implementation']})", p["sentences_per_s"], None, rss.get("torch")))
    if "ort" in res:
        p = res["ort"]
        rows.append((f"ONNX Runtime {p['onnxruntime']} (opset 17, all graph optimisations)", p["sentences_per_s"], None, rss.get("ort")))
    if "st" in res:
        p = res["st"]
        rows.append((f"sentence-transformers {p['sentence_transformers']} encode (titles: {p['n_titles']}, "
                     f"mean {p['mean_tokens']:.1f} tokens, max_seq_length {p['max_seq_length']})", {}, p["titles_seconds"], rss.get("st")))
    if ra:
        sps = {str(k): v for k, v in (ra.get("sentences_per_s") or {}).items()}
        rows.append(("RecAlign", sps, ra.get("titles_seconds"), rss.get("recalign")))
    for name, sps, titles, mem in rows:
        g = gflops(sps.get(str(t_flop)))
        cells = [name] + [fmt(sps.get(str(t))) for t in lengths]
        cells += [fmt(g, ".0f") + pct(g, sgemm), fmt(titles, ".2f"), fmt(mem, ".0f")]
        print("| " + " | ".join(cells) + " |")

    if ra:
        print("\nRecAlign against the targets of issue 3 (ratios of speed; > 1 = RecAlign faster):\n")
        sps = {str(k): v for k, v in (ra.get("sentences_per_s") or {}).items()}
        for t in lengths:
            mine = sps.get(str(t))
            for peer, name, target in (("ort", "ONNX Runtime", 1.0), ("torch", "PyTorch eager", 1.15)):
                other = res.get(peer, {}).get("sentences_per_s", {}).get(str(t))
                if mine and other:
                    q = mine / other
                    print(f"- RecAlign / {name} @{t}: {q:.2f}x (target >= {target:.2f}x: {verdict(q >= target)})")
        g = gflops(sps.get(str(t_flop)))  # same FLOP count as every other row
        ref = ra.get("sgemm_gflops") or sgemm
        if g and ref:
            also = f"; {100 * g / sgemm:.0f}% of numpy's {sgemm:.0f}" if sgemm and ra.get("sgemm_gflops") else ""
            own = ra.get("gflops_128") if t_flop == 128 else None
            own = f"; RecAlign itself reports {own:.0f}" if isinstance(own, (int, float)) else ""
            print(f"- RecAlign GFLOP/s @{t_flop}: {g:.0f} = {100 * g / ref:.0f}% of bare sgemm "
                  f"({'its own sgemm' if ra.get('sgemm_gflops') else 'numpy'} {ref:.0f}{also}{own}) "
                  f"(target >= 80%: {verdict(g >= 0.8 * ref)})")
        st_s = res.get("st", {}).get("titles_seconds")
        if st_s and ra.get("titles_seconds"):
            q = st_s / ra["titles_seconds"]
            print(f"- RecAlign / sentence-transformers on the {res['st']['n_titles']} titles: {q:.2f}x "
                  f"({ra['titles_seconds']:.2f} s vs {st_s:.2f} s; target >= 1.30x: {verdict(q >= 1.3)})")
        mine, other = rss.get("recalign"), rss.get("torch")
        if mine and other:
            own = f"; self-reported {ra['peak_rss_mb']:.0f} MB" if ra.get("peak_rss_mb") else ""
            print(f"- Peak RSS: RecAlign {mine:.0f} MB vs PyTorch eager {other:.0f} MB (wait4 ru_maxrss{own}; "
                  f"target below PyTorch: {verdict(mine < other)})")
    if r["errors"]:
        print("\nErrors:\n" + "\n".join(f"- {e}" for e in r["errors"]))


if __name__ == "__main__":
    main()
