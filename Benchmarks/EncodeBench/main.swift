// EncodeBench: encoder throughput at fixed lengths, ml-100k titles end to end and bare sgemm in one run, as JSON
// on the last stdout line (Scripts/bench_encode.py), or timed calls on request (--serve, Scripts/bench_interleaved.py).
// Formerly `recalign bench-encode`; same options, same output. Build: swift build -c release --product EncodeBench
import ArgumentParser
import BenchSupport
import Foundation
import CBLAS
import RecAlignNN
import RecAlignModels
import RecAlignRetrieval
import RecAlignTensor

struct EncodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "EncodeBench",
        abstract: "Encoder throughput at fixed lengths, ml-100k titles end to end, and bare sgemm (JSON on the last line).")

    @Option(help: "Model folder.") var model: String = "checkpoints/all-MiniLM-L6-v2"
    @Option(help: "Batch size.") var batch: Int = 32
    @Option(help: "Comma-separated sequence lengths.") var lengths: String = "32,128"
    @Option(help: "RecBole ml-100k folder for the titles run (skipped when absent).") var titles: String?
    @Option(help: "Repetitions (best is kept).") var reps: Int = 5
    @Option(help: "Projection precision: fp32, bf16 or int8 (falls back to fp32 where the CPU lacks it).")
    var precision: String = "fp32"
    @Flag(help: "Serve timed calls for Scripts/bench_interleaved.py: after one warm-up per length and a line {\"ready\": true}, each stdin line holding a length runs one batch and prints {\"seconds\": s}.")
    var serve = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if reps < 1 { throw ValidationError("--reps must be at least 1, got \(reps)") }
        if Precision(rawValue: precision) == nil { throw ValidationError("--precision must be fp32, bf16 or int8, got '\(precision)'") }
        guard !lengthList.isEmpty, lengthList.count == lengths.split(separator: ",").count, lengthList.allSatisfy({ $0 >= 2 }) else {
            throw ValidationError("--lengths must be comma-separated integers >= 2, got '\(lengths)'")
        }
    }

    func run() throws {
        let encoder = try SentenceEncoder(path: model)
        let plan = Precision.plan(Precision(rawValue: precision)!)
        encoder.precision = plan.precision
        let cfg = encoder.folder.config
        var rng = SeededRNG(seed: 1)
        noteCPUPath("EncodeBench")
        note("EncodeBench: precision \(plan.description)")
        if serve { return try serveTimedCalls(encoder, rng: &rng) }
        var perLength: [String: Double] = [:]
        var gflops128 = 0.0
        for t in lengthList {
            let tb = syntheticBatch(encoder, length: t, rng: &rng)
            var best = Double.infinity
            // As in an `encode` call: Q/K/V stacked and the weights packed once (ONNX Runtime prepacks at load).
            let weights = InferenceWeights(encoder.model, precision: encoder.precision)
            _ = timedEmbed(encoder, tb, weights, rng: &rng)
            for _ in 0..<reps { best = min(best, timedEmbed(encoder, tb, weights, rng: &rng)) }
            perLength[String(t)] = Double(batch) / best
            let n = Double(batch * t), h = Double(cfg.hiddenSize), f = Double(cfg.intermediateSize), l = Double(cfg.numHiddenLayers)
            let flops = 2 * n * (4 * h * h + 2 * h * f) * l + 2 * 2 * Double(batch) * Double(t * t) * h * l
            if t == 128 { gflops128 = flops / best / 1e9 }
            note(String(format: "length %d: %.1f sentences/s (%.1f GFLOP/s)", t, Double(batch) / best, flops / best / 1e9))
        }
        // Bare sgemm on the FFN shape, same run.
        let m = 2048, k = 384, n = 1536
        let a = Tensor.uniform([m, k], -1, 1, rng: &rng), w = Tensor.uniform([n, k], -1, 1, rng: &rng), c = Tensor(zeros: [m, n])
        var bestG = Double.infinity
        for _ in 0..<max(reps, 5) {
            let t0 = Date()
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a.data, Int32(k), w.data, Int32(k), 0, c.data, Int32(n))
            bestG = min(bestG, Date().timeIntervalSince(t0))
        }
        let sgemm = 2.0 * Double(m * n * k) / bestG / 1e9
        var titlesSeconds: Double? = nil
        if let titles {
            if let texts = try? PreparedCorpus.load(path: titles).itemTexts {
                var best = Double.infinity
                for _ in 0..<min(reps, 3) {
                    let t0 = Date()
                    _ = encoder.encode(texts, batchSize: 32)
                    best = min(best, Date().timeIntervalSince(t0))
                }
                titlesSeconds = best
                note(String(format: "ml-100k titles: %d texts in %.2f s", texts.count, best))
            }
        }
        var obj: [String: Any] = ["sentences_per_s": perLength, "gflops_128": gflops128, "sgemm_gflops": sgemm,
                                  "peak_rss_mb": peakRSSMegabytes(), "precision": plan.precision.rawValue,
                                  "kernel": plan.description]
        if let titlesSeconds { obj["titles_seconds"] = titlesSeconds }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
        print(String(data: data, encoding: .utf8)!)
    }

    /// The `--lengths` values.
    var lengthList: [Int] { lengths.split(separator: ",").compactMap { Int($0) } }

    /// Seconds of one inference pass over `tb`.
    func timedEmbed(_ encoder: SentenceEncoder, _ tb: TokenBatch, _ weights: InferenceWeights, rng: inout SeededRNG) -> Double {
        let t0 = Date()
        _ = Autograd.noGrad { encoder.embed(tb, weights: weights, rng: &rng) }
        return Date().timeIntervalSince(t0)
    }

    /// Batch x `length` random real-token ids between [CLS] and [SEP], no padding.
    func syntheticBatch(_ encoder: SentenceEncoder, length t: Int, rng: inout SeededRNG) -> TokenBatch {
        var ids = [Int32](repeating: 0, count: batch * t)
        for i in 0..<ids.count { ids[i] = Int32(1000 + Int(rng.next() % 28000)) }
        for b in 0..<batch { ids[b * t] = encoder.tokenizer.clsID; ids[b * t + t - 1] = encoder.tokenizer.sepID }
        return TokenBatch(ids: ids, mask: [Float](repeating: 1, count: batch * t), batch: batch, length: t)
    }

    /// `--serve`: timed calls on request, so that a driver can interleave them with its peers' calls.
    func serveTimedCalls(_ encoder: SentenceEncoder, rng: inout SeededRNG) throws {
        var batches: [Int: TokenBatch] = [:]
        for t in lengthList { batches[t] = syntheticBatch(encoder, length: t, rng: &rng) }
        let weights = InferenceWeights(encoder.model, precision: encoder.precision)
        do {
            for tb in batches.values { _ = timedEmbed(encoder, tb, weights, rng: &rng) }
            print("{\"ready\": true}"); fflush(stdout)
            while let line = readLine() {
                guard let t = Int(line.trimmingCharacters(in: .whitespaces)), let tb = batches[t] else {
                    throw ValidationError("EncodeBench --serve: unknown length request \(line.debugDescription); lengths: \(lengths)")
                }
                print("{\"seconds\": \(timedEmbed(encoder, tb, weights, rng: &rng))}"); fflush(stdout)
            }
        }
    }
}

EncodeBench.main()
