#!/usr/bin/env python3
"""Projected data-parallel throughput of RecAlign from measured single-machine inputs (for docs/SCALING.md).

A projection, not a measurement: it uses a simple cost model and the numbers you give it. Python 3 stdlib only.

Training mode (one or more --method NAME:STEP_SECONDS:ALLREDUCE_BYTES:ALLGATHER_BYTES[:GLOBAL_BATCH]):

    t      = STEP_SECONDS, measured compute time of one step of the whole global batch on one rank
    G      = ALLREDUCE_BYTES, bytes of the gradient buffer allreduced per step (fp32 trainable parameters x 4)
    A      = ALLGATHER_BYTES, TOTAL bytes of the gathered buffer per step, i.e. one rank's contribution times
             the number of ranks (for MNRL: global batch x (users + items) x dim x 4); it does not change with P
    o      = --overhead-seconds (default 0.002), a fixed per-step cost that does not shrink with P, added at every P
    B      = bandwidth in bytes/s = Gbit/s x 1e9 / 8 (--gbits, default 10 and 100)
    a      = --latency, seconds per message (default 20e-6)

    compute(P)   = t / P + o
    allreduce(P) = 2 (P-1)/P * G / B + 2 (P-1) a          (ring allreduce: reduce-scatter then all-gather)
    allgather(P) = (P-1)/P * A / B + (P-1) a               (ring all-gather)
    step(P)      = compute(P) + allreduce(P) + allgather(P)    (no overlap of compute and communication:
                                                                 conservative)
    steps/s      = 1 / step(P);  speed-up = step(1) / step(P);  efficiency = speed-up / P

    At P = 1 both communication terms are 0, and a term whose bytes are 0 is 0 (that collective is not called:
    train-head has no all-gather). When the global batch is known and P exceeds it, some ranks
    would hold no rows; such rows are marked.

Catalog mode (--catalog ITEMS --texts-per-second-per-core R --cores-per-machine C):

    encode(M)    = ITEMS / (R * C * M)                     (texts sharded evenly over M machines)

  with --score-users U --dim D --gflops G (G = sustained GFLOP/s of one machine), exact top-k scoring with the
  items sharded over the machines, every machine scoring all U users against its items:

    score(M)     = 2 * U * ITEMS * D / (G * 1e9 * M)
    merge bytes  = U * k * M * (id bytes + score bytes)    (k ids + scores per user per machine, --k 100,
                                                             --id-bytes 8, 4-byte float scores)
    merge(M)     = (M-1)/M * merge bytes / B + (M-1) a     (gathered to one machine; 0 at M = 1)
    total(M)     = encode(M) + score(M) + merge(M)

  The user embeddings are assumed present on every machine (their broadcast, U * D * 4 bytes, is not counted)
  and the final merge of M * k candidates per user is not counted.

--selftest checks hand-computed cases and exits 0 (1 on a mismatch).
"""
import argparse
import sys


def bytes_per_second(gbits):
    return gbits * 1e9 / 8


def allreduce_seconds(nbytes, p, gbits, latency):
    if p <= 1 or nbytes <= 0:
        return 0.0
    return 2 * (p - 1) / p * nbytes / bytes_per_second(gbits) + 2 * (p - 1) * latency


def allgather_seconds(total_bytes, p, gbits, latency):
    if p <= 1 or total_bytes <= 0:
        return 0.0
    return (p - 1) / p * total_bytes / bytes_per_second(gbits) + (p - 1) * latency


def step_seconds(step, allreduce_bytes, allgather_bytes, p, gbits, latency, overhead):
    return (step / p + overhead
            + allreduce_seconds(allreduce_bytes, p, gbits, latency)
            + allgather_seconds(allgather_bytes, p, gbits, latency))


def parse_method(text):
    parts = text.split(":")
    if len(parts) not in (4, 5):
        raise argparse.ArgumentTypeError(
            f"--method {text!r}: expected NAME:STEP_SECONDS:ALLREDUCE_BYTES:ALLGATHER_BYTES[:GLOBAL_BATCH]")
    try:
        name, step, ar, ag = parts[0], float(parts[1]), float(parts[2]), float(parts[3])
        batch = int(parts[4]) if len(parts) == 5 else None
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--method {text!r}: {e}")
    if not name or step <= 0 or ar < 0 or ag < 0 or (batch is not None and batch < 1):
        raise argparse.ArgumentTypeError(f"--method {text!r}: need a name, STEP_SECONDS > 0, bytes >= 0, batch >= 1")
    return name, step, ar, ag, batch


def human_bytes(n):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000


def fmt_seconds(s):
    if s == 0:
        return "0"
    if s >= 100:
        return f"{s:,.0f}"
    if s >= 1:
        return f"{s:.2f}"
    return f"{s:.4f}" if s >= 1e-3 else f"{s:.2e}"


def training_tables(args):
    out = []
    for gbits in args.gbits:
        out.append(f"### {gbits:g} Gbit/s, latency {args.latency:g} s, overhead {args.overhead_seconds:g} s/step\n")
        out.append("| method | P | step s | steps/s | speed-up | efficiency |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        marked = False
        for name, step, ar, ag, batch in args.method:
            base = step_seconds(step, ar, ag, 1, gbits, args.latency, args.overhead_seconds)
            for p in args.machines:
                s = step_seconds(step, ar, ag, p, gbits, args.latency, args.overhead_seconds)
                batch = batch if batch is not None else args.batch
                flag = ""
                if batch is not None and p > batch:
                    flag, marked = " *", True
                speedup = base / s
                out.append(f"| {name} | {p}{flag} | {fmt_seconds(s)} | {1 / s:.3g} | {speedup:.2f}x | {speedup / p:.0%} |")
        if marked:
            out.append("\n\\* P exceeds the global batch: some ranks would hold no rows; the row is not meaningful.")
        out.append("")
    return "\n".join(out)


def catalog_rows(args, gbits):
    rows = []
    for m in args.machines:
        encode = args.catalog / (args.texts_per_second_per_core * args.cores_per_machine * m)
        row = {"M": m, "encode": encode}
        if args.score_users is not None:
            score = 2 * args.score_users * args.catalog * args.dim / (args.gflops * 1e9 * m)
            merge_bytes = args.score_users * args.k * m * (args.id_bytes + 4)
            merge = allgather_seconds(merge_bytes, m, gbits, args.latency)
            row.update(score=score, merge_bytes=merge_bytes, merge=merge, total=encode + score + merge)
        rows.append(row)
    return rows


def catalog_tables(args):
    out = []
    desc = (f"{args.catalog:,} texts, {args.texts_per_second_per_core:g} texts/s per core, "
            f"{args.cores_per_machine} cores per machine")
    if args.score_users is None:
        out.append(f"### Encoding: {desc}\n")
        out.append("| machines | encode s |")
        out.append("| ---: | ---: |")
        for r in catalog_rows(args, args.gbits[0]):
            out.append(f"| {r['M']} | {fmt_seconds(r['encode'])} |")
        out.append("")
        return "\n".join(out)
    for gbits in args.gbits:
        out.append(f"### {gbits:g} Gbit/s: {desc}; exact scoring of {args.score_users:,} users, dim {args.dim}, "
                   f"{args.gflops:g} GFLOP/s per machine, top-{args.k}\n")
        out.append("| machines | encode s | score s | top-k merge bytes | merge s | total s |")
        out.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in catalog_rows(args, gbits):
            out.append(f"| {r['M']} | {fmt_seconds(r['encode'])} | {fmt_seconds(r['score'])} | "
                       f"{human_bytes(r['merge_bytes'])} | {fmt_seconds(r['merge'])} | {fmt_seconds(r['total'])} |")
        out.append("")
    return "\n".join(out)


def selftest():
    failures, checks = [], [0]

    def close(what, got, want, rel=1e-9):
        checks[0] += 1
        if abs(got - want) > rel * max(1.0, abs(want)):
            failures.append(f"{what}: got {got!r}, want {want!r}")

    # P = 1: no communication; the step is t + overhead.
    close("allreduce P=1", allreduce_seconds(91e6, 1, 10, 20e-6), 0.0)
    close("allgather P=1", allgather_seconds(1e6, 1, 10, 20e-6), 0.0)
    close("step P=1", step_seconds(1.34, 91e6, 98304, 1, 10, 20e-6, 0.002), 1.342)
    # P = 2 at 10 Gbit/s, 91e6 bytes: 2 * 1/2 * 91e6 * 8 / 10e9 + 2 * 20e-6 = 0.0728 + 0.00004 = 0.07284 s.
    close("allreduce P=2", allreduce_seconds(91e6, 2, 10, 20e-6), 0.07284)
    # All-gather, P = 4 at 100 Gbit/s, 1e6 bytes total: 3/4 * 1e6 * 8 / 100e9 + 3 * 20e-6 = 6e-5 + 6e-5 = 1.2e-4 s.
    close("allgather P=4", allgather_seconds(1e6, 4, 100, 20e-6), 1.2e-4)
    # Step, P = 2, no all-gather (0 bytes: not called, no latency): 1.0/2 + 0.002 + 0.07284 = 0.57484 s.
    close("step P=2", step_seconds(1.0, 91e6, 0, 2, 10, 20e-6, 0.002), 0.57484)
    close("allgather 0 bytes", allgather_seconds(0, 8, 10, 20e-6), 0.0)
    # Catalog: 1e6 texts at 100 texts/s/core, 8 cores, 10 machines = 125 s; scoring 1e5 users x 1e6 items x
    # dim 384 at 100 GFLOP/s per machine on 10 machines = 2*1e5*1e6*384 / 1e12 = 76.8 s; merge bytes
    # 1e5 * 100 * 10 * 12 = 1.2e9, at 10 Gbit/s: 9/10 * 1.2e9 * 8 / 1e10 + 9 * 20e-6 = 0.864 + 0.00018 s.
    ns = argparse.Namespace(catalog=1_000_000, texts_per_second_per_core=100.0, cores_per_machine=8, machines=[10],
                            score_users=100_000, dim=384, gflops=100.0, k=100, id_bytes=8, latency=20e-6)
    r = catalog_rows(ns, 10)[0]
    close("encode", r["encode"], 125.0)
    close("score", r["score"], 76.8)
    close("merge bytes", r["merge_bytes"], 1.2e9)
    close("merge", r["merge"], 0.86418)
    ns.machines = [1]
    close("merge M=1", catalog_rows(ns, 10)[0]["merge"], 0.0)
    if failures:
        print("selftest FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"selftest passed ({checks[0]} checks)")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Project data-parallel training throughput (--method) or catalog encoding and scoring time "
                    "(--catalog) from measured inputs. Prints markdown tables. See the module docstring for the model.")
    ap.add_argument("--method", action="append", type=parse_method, default=[],
                    metavar="NAME:STEP_SECONDS:ALLREDUCE_BYTES:ALLGATHER_BYTES[:GLOBAL_BATCH]",
                    help="Repeatable. STEP_SECONDS: measured one-rank compute time of a step of the global batch; "
                         "ALLREDUCE_BYTES: gradient bytes allreduced per step; ALLGATHER_BYTES: total gathered bytes "
                         "per step (one rank's contribution x ranks); GLOBAL_BATCH: optional, overrides --batch.")
    ap.add_argument("--batch", type=int, help="Global batch (rows per step) of every method; marks P > batch.")
    ap.add_argument("--machines", type=int, nargs="+", default=[1, 4, 16, 64], help="Machine counts (default 1 4 16 64).")
    ap.add_argument("--gbits", type=float, nargs="+", default=[10, 100], help="Bandwidths in Gbit/s (default 10 100).")
    ap.add_argument("--latency", type=float, default=20e-6, help="Seconds per message (default 20e-6).")
    ap.add_argument("--overhead-seconds", type=float, default=0.002, help="Fixed per-step overhead (default 0.002).")
    ap.add_argument("--catalog", type=int, metavar="ITEMS", help="Catalog mode: number of texts to encode.")
    ap.add_argument("--texts-per-second-per-core", type=float, metavar="R")
    ap.add_argument("--cores-per-machine", type=int, metavar="C")
    ap.add_argument("--score-users", type=int, metavar="U", help="Catalog mode: also exact top-k scoring of U users.")
    ap.add_argument("--dim", type=int, metavar="D", help="Embedding dimension (with --score-users).")
    ap.add_argument("--gflops", type=float, metavar="G", help="Sustained GFLOP/s of one machine (with --score-users).")
    ap.add_argument("--k", type=int, default=100, help="Top-k per user (default 100).")
    ap.add_argument("--id-bytes", type=int, default=8, help="Bytes of one id in the top-k merge (default 8; scores are 4).")
    ap.add_argument("--selftest", action="store_true", help="Check hand-computed cases and exit.")
    args = ap.parse_args(argv)

    if args.selftest:
        return selftest()
    if any(m < 1 for m in args.machines) or any(g <= 0 for g in args.gbits) or args.latency < 0 or args.overhead_seconds < 0:
        ap.error("--machines must be >= 1, --gbits > 0, --latency and --overhead-seconds >= 0")
    if not args.method and args.catalog is None:
        ap.error("give --method (training) or --catalog (encoding / scoring), or --selftest")
    parts = []
    if args.method:
        parts.append(training_tables(args))
    if args.catalog is not None:
        if args.texts_per_second_per_core is None or args.cores_per_machine is None:
            ap.error("--catalog needs --texts-per-second-per-core and --cores-per-machine")
        if args.catalog < 1 or args.texts_per_second_per_core <= 0 or args.cores_per_machine < 1:
            ap.error("--catalog, --texts-per-second-per-core and --cores-per-machine must be positive")
        if args.score_users is not None and (args.dim is None or args.gflops is None):
            ap.error("--score-users needs --dim and --gflops")
        if args.score_users is not None and (args.score_users < 1 or args.dim < 1 or args.gflops <= 0 or args.k < 1):
            ap.error("--score-users, --dim, --gflops and --k must be positive")
        parts.append(catalog_tables(args))
    print("\n".join(parts).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
