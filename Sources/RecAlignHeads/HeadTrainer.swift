// HeadTrainer: trains a RecHead on cached item embeddings (no encoder pass), selecting the epoch on validation.
import Foundation
import RecAlignNN
import RecAlignData
import RecAlignTensor
import RecAlignMetrics

/// Which items a training row is scored against.
public enum HeadLoss: String, Codable, CaseIterable, Sendable {
    /// Softmax over every item that occurs in the training sequences (cheap: ~1.7k items on ml-100k).
    case full
    /// In-batch negatives: the batch's distinct targets (MNRL when the batch holds no duplicate target).
    case inbatch
}

/// Optimisation settings of a head run.
public struct HeadTrainingOptions: Sendable {
    public var epochs: Int = 20
    public var lr: Float = 1e-3
    public var weightDecay: Float = 0.01
    /// Pairs (mean tower) or sequence windows (seq tower) per step.
    public var batchSize: Int = 128
    public var seed: UInt64 = 42
    public var loss: HeadLoss = .full
    public var warmupFraction: Float = 0.1
    public var clipNorm: Float = 1.0
    /// Stop after this many epochs without a better validation Recall@10 (0 = never).
    public var patience: Int = 0
    public init() {}
}

/// One epoch's record.
public struct HeadEpochLog: Sendable {
    public var epoch: Int
    public var meanLoss: Float
    public var valid: MetricSummary
    public var trainSeconds: Double
    public var isBest: Bool
}

/// Result of `HeadTrainer.run`: the head holds the best epoch's weights afterwards.
public struct HeadRunResult: Sendable {
    public var bestEpoch: Int
    public var bestValid: MetricSummary
    /// Wall time of the optimisation steps only (no evaluation).
    public var trainSeconds: Double
    public var epochs: [HeadEpochLog]
    /// Under MPI: bytes this rank sent per step to the gradient allreduce.
    public var allReducedBytesPerStep = 0.0
}

/// Trains `head` on the train sequences of `setting`: the mean tower on PROTOCOL section 6 pairs
/// (history h[:t] -> h[t], duplicate-free batches, seed + epoch), the seq tower on causal windows of
/// `maxHistory` items (every position of a window predicts the next item). Without `joint` only the head's
/// parameters are updated and the item embeddings are constants; with it the encoder trains too.
public final class HeadTrainer {
    public let head: RecHead
    /// The item embeddings the head reads: given, or (joint training) refreshed from the encoder as it trains.
    public private(set) var embeddings: [Float]
    /// Set to train the encoder together with the head (nil: the embeddings are constants).
    public var joint: JointEncoder?
    public let split: Split
    public let setting: EvalSetting
    public let options: HeadTrainingOptions
    let itemCount: Int
    let sequences: InteractionSequences
    /// Item rows that occur in the training sequences (the full-softmax candidates), and row -> index.
    let candidates: [Int32]
    let candidateIndex: [Int32]

    public init(head: RecHead, itemEmbeddings: [Float], split: Split, setting: EvalSetting,
                options: HeadTrainingOptions) throws {
        try head.config.validate()
        guard itemEmbeddings.count == split.itemCount * head.config.inputDim else {
            throw HeadError.badInput("\(itemEmbeddings.count) embedding values for \(split.itemCount) items x \(head.config.inputDim)")
        }
        self.head = head; embeddings = itemEmbeddings; self.split = split; self.setting = setting
        self.options = options
        itemCount = split.itemCount
        sequences = split.trainSequences(setting)
        var seen = [Bool](repeating: false, count: itemCount)
        for i in sequences.items { seen[Int(i)] = true }
        candidates = (0..<itemCount).filter { seen[$0] }.map(Int32.init)
        var index = [Int32](repeating: -1, count: itemCount)
        for (k, r) in candidates.enumerated() { index[Int(r)] = Int32(k) }
        candidateIndex = index
        if head.config.itemInput != .text {
            guard head.config.itemCount == itemCount else {
                throw HeadError.badInput("the head holds ID vectors for \(head.config.itemCount) items; the split has \(itemCount)")
            }
            head.keepIDs(of: candidates)
        }
    }

    /// Batches of one epoch, each as (histories oldest first, target per anchor row); for the seq tower a
    /// batch's anchors are every real slot of its windows, in slot order.
    func epochBatches(_ epoch: Int) -> [(histories: [ArraySlice<Int32>], targets: [Int32])] {
        let items = sequences.items, offsets = sequences.offsets
        if head.config.tower == .seq {
            let windows = HeadExamples.windows(sequences, length: head.config.maxHistory)
            let order = HeadExamples.shuffled(windows.count, seed: options.seed &+ UInt64(epoch))
            return stride(from: 0, to: order.count, by: options.batchSize).map { s in
                let ws = order[s..<min(order.count, s + options.batchSize)].map { windows[$0] }
                let base = ws.map { offsets[Int($0.user)] }
                let hs = zip(ws, base).map { items[($1 + $0.start)..<($1 + $0.end)] }
                let ts = zip(ws, base).flatMap { items[($1 + $0.start + 1)...($1 + $0.end)] }
                return (hs, ts)
            }
        }
        let pairs = TrainingPairs(sequences: sequences)
        let batches = NoDuplicateBatcher.epochBatches(targets: pairs.targets, batchSize: options.batchSize,
                                                      epoch: epoch, baseSeed: options.seed)
        return batches.map { b in (b.map { pairs.history(pairs[$0]) }, b.map { pairs.target(pairs[$0]) }) }
    }

    /// This rank's part of a global batch (data-parallel under MPI: a contiguous share of its histories and their
    /// targets) and the fraction of the batch's target rows it holds; the whole batch and 1 on one process.
    func rankShare(_ batch: (histories: [ArraySlice<Int32>], targets: [Int32]))
        -> (histories: [ArraySlice<Int32>], targets: [Int32], share: Float) {
        guard Cluster.isDistributed else { return (batch.histories, batch.targets, 1) }
        let part = Parallel.share(batch.histories.count, worker: Cluster.rank, of: Cluster.size)
        // A seq window predicts one target per history slot; a mean-tower pair predicts one.
        let rows = batch.histories.map { head.config.tower == .seq ? $0.count : 1 }
        let lo = rows[..<part.lowerBound].reduce(0, +), n = rows[part].reduce(0, +)
        return (Array(batch.histories[part]), Array(batch.targets[lo..<(lo + n)]), Float(n) / Float(max(1, batch.targets.count)))
    }

    /// Optimizer steps in one epoch.
    public var stepsPerEpoch: Int { epochBatches(0).count }

    /// Loss of one batch (records the tape).
    func loss(_ histories: [ArraySlice<Int32>], _ targets: [Int32], x: Tensor, rng: inout SeededRNG) -> Tensor {
        let cfg = head.config
        let states = head.itemStates(x, rng: &rng)
        let itemVecs = head.itemVectors(states: states)
        let anchors: Tensor
        if let seq = head.seq {
            let batch = HistoryBatch(histories, maxHistory: cfg.maxHistory)
            let all = seq.states(items: states, batch: batch, causal: true, rng: &rng)
            var rows: [Int32] = []
            for i in 0..<(batch.batch * batch.length) where batch.mask[i] == 1 { rows.append(Int32(i)) }
            precondition(rows.count == targets.count, "seq batch: \(rows.count) slots for \(targets.count) targets")
            anchors = l2Normalize(embedding(all.reshaped([batch.batch * batch.length, cfg.hiddenDim]), ids: rows))
        } else {
            anchors = head.userVectors(states: states, batch: HistoryBatch(histories, maxHistory: cfg.maxHistory), rng: &rng)
        }
        switch options.loss {
        case .full:
            let cand = embedding(itemVecs, ids: candidates)
            let logits = scale(matmul(anchors, cand, transB: true), cfg.scale)
            return crossEntropy(logits, targets: targets.map { Int(candidateIndex[Int($0)]) })
        case .inbatch:
            var unique: [Int32] = [], where_: [Int32: Int] = [:]
            for t in targets where where_[t] == nil { where_[t] = unique.count; unique.append(t) }
            let cand = embedding(itemVecs, ids: unique)
            if unique.count == targets.count {
                return MultipleNegativesRankingLoss(scale: cfg.scale)(anchors: anchors, candidates: cand)
            }
            let logits = scale(matmul(anchors, cand, transB: true), cfg.scale)
            return crossEntropy(logits, targets: targets.map { where_[$0]! })
        }
    }

    /// Trains for `options.epochs` epochs, validating after each; restores the best epoch's weights.
    /// `log` receives each epoch's record as it ends.
    public func run(log: (HeadEpochLog) -> Void = { _ in }) throws -> HeadRunResult {
        if let joint {
            guard joint.tower.itemCount == itemCount && joint.tower.dim == head.config.inputDim else {
                throw HeadError.badInput("the item tower has \(joint.tower.itemCount) items x \(joint.tower.dim); the head needs \(itemCount) x \(head.config.inputDim)")
            }
            embeddings = joint.tower.refresh()
        }
        var x = Tensor(embeddings, shape: [itemCount, head.config.inputDim])
        func refresh() {
            guard let joint else { return }
            embeddings = joint.tower.refresh()
            x = Tensor(embeddings, shape: [itemCount, head.config.inputDim])
        }
        // Under MPI each rank draws its own dropout masks (rank 0 as a single process would).
        var rng = SeededRNG(seed: options.seed &+ UInt64(Cluster.rank) &* 0x9E37_79B9_7F4A_7C15)
        let allReduce = Cluster.isDistributed ? GradientAllReduce() : nil
        let headOpt = AdamW(module: head, lr: options.lr, weightDecay: options.weightDecay)
        let opt: Optimizer = joint.map { OptimizerGroup([(headOpt, 1), ($0.optimizer, $0.rateFactor)], lr: options.lr) } ?? headOpt
        let params = head.trainableParameters().map(\.tensor) + (joint?.optimizer.params.map(\.tensor) ?? [])
        let stepsPerEpoch = self.stepsPerEpoch
        let total = max(1, stepsPerEpoch * options.epochs)
        let schedule = LinearWarmupSchedule(base: options.lr, warmup: Int(Float(total) * options.warmupFraction), total: total)
        var loop = TrainingLoop<MetricSummary>(schedule: schedule, patience: options.patience,
                                               isBetter: { $0.isBetter(than: $1) }, bestStep: 0)
        var step = 0, trainSeconds = 0.0
        let reducedAtStart = Cluster.allReducedBytes
        var bestWeights: [[Float]] = params.map(\.array)
        var logs: [HeadEpochLog] = []
        func restoreBest() {
            for (p, w) in zip(params, bestWeights) { w.withUnsafeBufferPointer { p.data.update(from: $0.baseAddress!, count: $0.count) } }
        }
        for epoch in 0..<options.epochs {
            let t0 = Date()
            head.train(true)
            joint?.tower.encoder.model.train(true)
            var lossSum: Double = 0
            let batches = epochBatches(epoch)
            for batch in batches {
                let (hs, ts, share) = rankShare(batch)
                var xs = x
                if let joint, !ts.isEmpty {
                    let rows = joint.rows(targets: ts, rng: &rng)
                    xs = replacingRows(x, rows: rows, with: joint.tower.encode(rows: rows, rng: &rng))
                }
                let value = try loop.step(step, optimizer: opt) { _ in
                    try loop.update(hs.isEmpty ? nil : loss(hs, ts, x: xs, rng: &rng), share: share, parameters: params,
                                    optimizer: opt, maxGradNorm: options.clipNorm, allReduce: allReduce) { value in
                        restoreBest()
                        return HeadError.nonFiniteLoss(step: step, value: value)
                    }
                }
                lossSum += Double(value)
                step += 1
                if let every = joint?.refreshEvery, every > 0, step % every == 0 { refresh() }
            }
            head.train(false)
            joint?.tower.encoder.model.train(false)
            refresh()
            let secs = Date().timeIntervalSince(t0)
            trainSeconds += secs
            let valid = try HeadEvaluation.evaluate(head, itemEmbeddings: embeddings, split: split, stage: .valid, setting: setting)
            let verdict = loop.validated(valid, at: epoch + 1) { bestWeights = params.map(\.array) }
            let entry = HeadEpochLog(epoch: epoch + 1, meanLoss: Float(lossSum / Double(max(1, batches.count))),
                                     valid: valid, trainSeconds: secs, isBest: verdict.isBest)
            logs.append(entry)
            log(entry)
            if Cluster.agree(verdict.stop) { break }
        }
        restoreBest()
        refresh()
        let finalBest = try loop.best ?? HeadEvaluation.evaluate(head, itemEmbeddings: embeddings, split: split, stage: .valid, setting: setting)
        var result = HeadRunResult(bestEpoch: loop.bestStep, bestValid: finalBest, trainSeconds: trainSeconds, epochs: logs)
        result.allReducedBytesPerStep = Double(Cluster.allReducedBytes - reducedAtStart) / Double(max(1, step))
        return result
    }
}
