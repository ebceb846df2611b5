// TrainBench: seconds per training step (both towers, MNRL, backward, AdamW) on random token ids, as JSON on the
// last stdout line (Scripts/bench_train_step.py), or timed steps on request (--serve, Scripts/bench_interleaved.py).
// Formerly `recalign bench-train`; same options, same output. Build: swift build -c release --product TrainBench
// Under `mpirun -np N` the global batch is split over the ranks (as `recalign train`); rank 0 reports, with the bytes.
import ArgumentParser
import BenchSupport
import Foundation
import CBLAS
import RecAlignNN
import RecAlignModels
import RecAlignTraining
import RecAlignTensor

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "TrainBench",
        abstract: "Time training steps (both towers, MNRL, backward, AdamW) on random token ids; last line {\"seconds_per_step\", \"peak_rss_mb\"}.")

    @Option(help: "Model folder.") var model: String = "checkpoints/all-MiniLM-L6-v2"
    @Option(help: "full | prompt | lora (rank 8, query and value).") var method: String = "full"
    @Option(help: "Pairs per step.") var batch: Int = 32
    @Option(help: "User text length in tokens (every sequence exactly this long).") var userLength: Int = 32
    @Option(help: "Item text length in tokens.") var itemLength: Int = 32
    @Option(help: "Timed steps (after 2 warm-up steps); the best is reported.") var steps: Int = 5
    @Option(help: "Soft prompt length for --method prompt.") var promptLength: Int = 20
    @Flag(help: "Serve timed steps for Scripts/bench_interleaved.py train: after a line {\"ready\": true}, each stdin line holding a user length runs one step and prints {\"seconds\": s}.")
    var serve = false

    func validate() throws {
        guard ["full", "prompt", "lora"].contains(method) else { throw ValidationError("--method must be full, prompt or lora") }
        if batch < 2 || userLength < 2 || itemLength < 2 || steps < 1 { throw ValidationError("--batch, lengths >= 2 and --steps >= 1") }
        if promptLength < 1 { throw ValidationError("--prompt-length must be at least 1, got \(promptLength)") }
    }

    func run() throws {
        let encoder = try SentenceEncoder(path: model, maxLength: 512)
        var rng = SeededRNG(seed: 1)
        noteCPUPath("TrainBench")
        let tuning: any TuningMethod = method == "full" ? FullTuning()
            : method == "lora" ? try TuningMethods.make(LoRATuning.name, MethodOptions()) : SoftPromptTuning(length: promptLength, initText: nil)
        let tuned = try TunedEncoder(tuning, encoder: encoder, rng: &rng)
        let optimizer = tuned.optimizer(lr: method == "full" ? 5e-5 : 3e-3, weightDecay: method == "full" ? 0.01 : 0)
        let allReduce = GradientAllReduce()
        let vocab = encoder.model.config.vocabSize
        func randomBatch(_ t: Int) -> TokenBatch {
            var ids = [Int32](repeating: 0, count: batch * t)
            for i in 0..<ids.count { ids[i] = Int32(999 + Int(rng.next() % UInt64(vocab - 999))) }
            for b in 0..<batch { ids[b * t] = encoder.tokenizer.clsID; ids[b * t + t - 1] = encoder.tokenizer.sepID }
            return TokenBatch(ids: ids, mask: [Float](repeating: 1, count: batch * t), batch: batch, length: t)
        }
        tuned.train(true)
        let loss = MultipleNegativesRankingLoss()
        /// Seconds of one step on fresh random batches (user texts of `t` tokens).
        func timedStep(userLength t: Int) throws -> Double {
            let u = randomBatch(t), i = randomBatch(itemLength)
            let t0 = Date()
            try contrastiveStep(tuned: tuned, optimizer: optimizer, users: [u], items: [i], loss: loss, maxGradNorm: 1, rng: &rng,
                                allReduce: allReduce)
            return Date().timeIntervalSince(t0)
        }
        if serve {
            print("{\"ready\": true}"); fflush(stdout)
            while let line = readLine() {
                guard let t = Int(line.trimmingCharacters(in: .whitespaces)), t >= 2 else {
                    throw ValidationError("TrainBench --serve: bad user length request \(line.debugDescription)")
                }
                print("{\"seconds\": \(try timedStep(userLength: t))}"); fflush(stdout)
            }
            return
        }
        var times: [Double] = []
        let (reduced0, gathered0) = (Cluster.allReducedBytes, Cluster.allGatheredBytes)
        for s in 0..<(steps + 2) {
            let dt = try timedStep(userLength: userLength)
            if s >= 2 { times.append(dt) }
            note(String(format: "step %d: %.3f s%@", s, dt, s < 2 ? " (warm-up)" : ""))
        }
        let best = times.min() ?? 0
        let sorted = times.sorted()
        note(String(format: "%@ batch %d, user length %d, item length %d: best %.3f s/step, median %.3f s", method, batch,
                    userLength, itemLength, best, sorted[sorted.count / 2]))
        let perStep = { (b: Int) in Double(b) / Double(steps + 2) }
        let obj: [String: Any] = ["seconds_per_step": best, "median_seconds_per_step": sorted[sorted.count / 2],
                                  "peak_rss_mb": peakRSSMegabytes(), "ranks": Cluster.size, "threads": Parallel.workers,
                                  "allreduce_bytes_per_step": perStep(Cluster.allReducedBytes - reduced0),
                                  "allgather_bytes_per_step": perStep(Cluster.allGatheredBytes - gathered0)]
        guard Cluster.isRoot else { return }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
        print(String(data: data, encoding: .utf8)!)
    }
}

if let layout = Cluster.start() {
    if !Cluster.isRoot { _ = freopen("/dev/null", "w", stdout) }
    FileHandle.standardError.write(Data((layout + "\n").utf8))
}
TrainBench.main()
Cluster.finish()
