// TopKBench: queries/s of RecAlign's exact top-k (TopK.search) on random unit vectors, beside faiss via
// Scripts/bench_faiss_topk.py, which writes the data and faiss's ids and runs this binary on them.
//
// Usage: TopKBench [--items N] [--dim D] [--k K] [--batch B] [--batches NB] [--block BI] [--threads T]
//                  [--data DIR] [--gemm-only 1] [--eval 1]
// With --data, reads DIR/items.f32 (N x D) and DIR/queries.f32 (B*NB x D) as raw little-endian float32,
// and, when present, DIR/faiss_ids.i64 (B*NB x K int64) to report the agreement of the top-k sets.
// Prints a human line and a `RESULT key=value ...` line for the script. `--gemm-only 1` times the same
// blocked GEMMs without any selection (the floor the selection overhead is measured against); `--eval 1`
// times Evaluator.ranks with the queries as users (random targets, 100 excluded rows each).
import CBLAS
import Foundation
import RecAlignRetrieval

struct Options {
    var items = 100_000, dim = 384, k = 10, batch = 256, batches = 4, block = 2048, threads = 2
    var data: String?
    var gemmOnly = false
    var eval = false
}

func parse() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        guard let v = args.next() else { fail("missing value after \(a)") }
        switch a {
        case "--items": o.items = int(v, a)
        case "--dim": o.dim = int(v, a)
        case "--k": o.k = int(v, a)
        case "--batch": o.batch = int(v, a)
        case "--batches": o.batches = int(v, a)
        case "--block": o.block = int(v, a)
        case "--threads": o.threads = int(v, a)
        case "--data": o.data = v
        case "--gemm-only": o.gemmOnly = v == "1"
        case "--eval": o.eval = v == "1"
        default: fail("unknown option \(a)")
        }
    }
    return o
}

func int(_ s: String, _ name: String) -> Int {
    guard let v = Int(s), v > 0 else { fail("\(name) needs a positive integer, got \(s)") }
    return v
}

func fail(_ msg: String) -> Never {
    FileHandle.standardError.write(Data("TopKBench: \(msg)\n".utf8))
    exit(2)
}

/// Reads exactly `count` values of T from a raw file.
func readRaw<T>(_ path: String, count: Int, as: T.Type) -> [T] {
    guard let f = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(f) }
    let out = [T](unsafeUninitializedCapacity: count) { buf, n in
        n = fread(buf.baseAddress!, MemoryLayout<T>.stride, count, f)
    }
    guard out.count == count else { fail("\(path): expected \(count) values, read \(out.count)") }
    return out
}

/// Random unit vectors (SplitMix64 -> uniform in [-1, 1] -> L2-normalised rows).
func randomUnit(rows: Int, dim: Int, seed: UInt64) -> [Float] {
    var s = seed
    var m = [Float](repeating: 0, count: rows * dim)
    m.withUnsafeMutableBufferPointer { p in
        for i in 0 ..< p.count {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            p[i] = Float(z >> 40) / Float(1 << 23) - 1
        }
    }
    try! L2.normalizeRows(&m, dim: dim)
    return m
}

let o = parse()
let nq = o.batch * o.batches
let items: [Float], queries: [Float]
var faissIds: [Int64]?
if let dir = o.data {
    items = readRaw(dir + "/items.f32", count: o.items * o.dim, as: Float.self)
    queries = readRaw(dir + "/queries.f32", count: nq * o.dim, as: Float.self)
    if FileManager.default.fileExists(atPath: dir + "/faiss_ids.i64") {
        faissIds = readRaw(dir + "/faiss_ids.i64", count: nq * o.k, as: Int64.self)
    }
} else {
    items = randomUnit(rows: o.items, dim: o.dim, seed: 1)
    queries = randomUnit(rows: nq, dim: o.dim, seed: 2)
}

func batch(_ b: Int) -> ArraySlice<Float> { queries[(b * o.batch * o.dim) ..< ((b + 1) * o.batch * o.dim)] }

/// The GEMM work of one TopK batch alone: the items split in `threads` shares, blocks of `block` items.
func gemmOnly(_ q: [Float]) {
    let m = q.count / o.dim, share = (o.items + o.threads - 1) / o.threads
    let old = openblas_get_num_threads()
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(old) }
    items.withUnsafeBufferPointer { it in
        DispatchQueue.concurrentPerform(iterations: o.threads) { w in
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: m * o.block)
            defer { buf.deallocate() }
            var j0 = w * share
            let hi = min(o.items, j0 + share)
            while j0 < hi {
                let n = min(o.block, hi - j0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(o.dim), 1, q,
                            Int32(o.dim), it.baseAddress! + j0 * o.dim, Int32(o.dim), 0, buf, Int32(n))
                j0 += n
            }
        }
    }
}

if o.gemmOnly {
    gemmOnly(Array(batch(0)))
    let t0 = DispatchTime.now().uptimeNanoseconds
    for b in 0 ..< o.batches { gemmOnly(Array(batch(b))) }
    let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    print(String(format: "GEMM only: %d items, block %d, %d threads: %.3f s, %.1f queries/s", o.items, o.block,
                 o.threads, secs, Double(nq) / secs))
    exit(0)
}

if o.eval {
    var rng = SystemRandomNumberGenerator()
    let targets = (0 ..< nq).map { _ in Int.random(in: 0 ..< o.items, using: &rng) }
    let exclude = (0 ..< nq).map { u in
        Array(Set((0 ..< 100).map { _ in Int32.random(in: 0 ..< Int32(o.items), using: &rng) })
              .subtracting([Int32(targets[u])])).sorted()
    }
    let t0 = DispatchTime.now().uptimeNanoseconds
    let ranks = try! Evaluator.ranks(users: queries, items: items, dim: o.dim, targets: targets, exclude: exclude,
                                     blockItems: o.block, threads: o.threads)
    let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    print(String(format: "Evaluator.ranks: %d users x %d items x %d, block %d, %d threads: %.3f s, %.1f users/s "
                 + "(mean rank %.0f)", nq, o.items, o.dim, o.block, o.threads, secs, Double(nq) / secs,
                 Double(ranks.reduce(0, +)) / Double(nq)))
    exit(0)
}

do {
    // Warm-up on the first batch (page faults, thread pool), as the faiss side does.
    _ = try TopK.search(queries: Array(batch(0)), items: items, dim: o.dim, k: o.k, blockItems: o.block,
                        threads: o.threads)
    var rows: [Int32] = []
    let t0 = DispatchTime.now().uptimeNanoseconds
    for b in 0 ..< o.batches {
        let r = try TopK.search(queries: Array(batch(b)), items: items, dim: o.dim, k: o.k, blockItems: o.block,
                                threads: o.threads)
        rows += r.rows
    }
    let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let qps = Double(nq) / secs
    var agreement = -1.0
    if let f = faissIds {
        var same = 0
        for q in 0 ..< nq {
            let a = Set(rows[(q * o.k) ..< ((q + 1) * o.k)].map { Int64($0) })
            same += f[(q * o.k) ..< ((q + 1) * o.k)].filter { a.contains($0) }.count
        }
        agreement = Double(same) / Double(nq * o.k)
    }
    print(String(format: "RecAlign TopK: %d items x %d, k=%d, %d queries in batches of %d, block %d, %d threads: "
                 + "%.3f s, %.1f queries/s", o.items, o.dim, o.k, nq, o.batch, o.block, o.threads, secs, qps))
    print(String(format: "RESULT items=%d seconds=%.4f qps=%.2f agreement=%.6f", o.items, secs, qps, agreement))
} catch {
    fail("\(error)")
}
