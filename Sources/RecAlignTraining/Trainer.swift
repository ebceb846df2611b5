// Trainer: the contrastive training loop (batches, two encoder passes, MNRL, AdamW, schedule, validation, checkpoints, resume).
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignData
import RecAlignFormats
import RecAlignRetrieval
import RecAlignTensor
import RecAlignMetrics

/// Settings of a training run (PROTOCOL section 6 defaults).
public struct TrainerConfig: Sendable {
    public var epochs = 1
    public var batchSize = 32
    public var lr: Float = 5e-5
    /// nil: the method's default (0.01 fine-tuning, 0 prompt / prefix / LoRA).
    public var weightDecay: Float? = nil
    public var warmupFraction = 0.1
    public var maxGradNorm: Float = 1
    public var scale: Float = 20
    public var symmetric = false
    /// Hard negatives mined once by the frozen encoder (nil: in-batch negatives only).
    public var hardNegatives: HardNegativeWindow? = nil
    /// Validate every N steps (0: only at the start and the end).
    public var evalEvery = 0
    /// Validate before the first step (gives the curve its starting point and a first checkpoint).
    public var validateAtStart = true
    /// Stop after this many validations without improvement (0: never).
    public var patience = 0
    /// Batch order seed base (PROTOCOL: 42 + epoch).
    public var dataSeed: UInt64 = 42
    /// User texts are embedded in sub-batches of this many, sorted by length, each padded to its own longest.
    public var userChunk = 16
    /// Wall-clock budget; the run stops (resumable) when exceeded.
    public var maxMinutes: Double? = nil
    /// Stop (resumable) after this many steps in total (tests of resume).
    public var stopAfterSteps: Int? = nil
    /// Saved into every checkpoint folder (the split the run trains on), when set.
    public var provenance: Provenance? = nil
    /// Split each batch's rows over the cores (see `contrastiveGradients`); off: one graph, threaded kernels.
    public var dataParallel = true
    /// The curve's validation axis label (say how validation scores, e.g. with the text prior).
    public var validationLabel = "validation metric"
    /// Output folder: `best/`, `state/`, `metrics.jsonl`, `curve.svg`.
    public var outputDir: String
    public init(outputDir: String) { self.outputDir = outputDir }
}

/// What the progress callback receives after each step.
public struct TrainProgress: Sendable {
    public var step: Int, totalSteps: Int, epoch: Int
    public var loss: Float, lr: Float, examplesPerSecond: Double
    /// Seconds left at the current rate.
    public var eta: Double
    /// Set on validation steps.
    public var validation: MetricSummary?
}

/// The result of `Trainer.run`.
public struct TrainResult: Sendable {
    public var steps: Int
    public var best: MetricSummary?
    public var bestStep: Int
    /// Why the run ended: "completed", "early stopping", "time budget", "stopped after N steps".
    public var reason: String
    public var seconds: Double
    public var bestCheckpoint: String?
    /// Under MPI: bytes this rank sent per training step, to the gradient allreduce and to the embeddings' all-gather.
    public var allReducedBytesPerStep = 0.0, allGatheredBytesPerStep = 0.0
}

/// Trains a `TunedEncoder` on training pairs with in-batch negatives.
public final class Trainer {
    public let tuned: TunedEncoder
    public let pairs: TrainingPairs
    public let builder: UserTextBuilder
    public let config: TrainerConfig
    public let validate: ((SentenceEncoder) throws -> MetricSummary)?
    /// Called after each step (and each validation) — the CLI draws its progress bar from it.
    public var progress: ((TrainProgress) -> Void)?
    /// Test hook: replaces the loss value seen by the NaN check at a step.
    public var lossObserver: ((Int, Float) -> Float)?
    public private(set) var optimizer: AdamW
    public private(set) var rng: SeededRNG
    public let log: MetricsLog
    let loss: MultipleNegativesRankingLoss
    let userIDs: [[Int32]]
    let itemIDs: [[Int32]]
    let targets: [Int32]

    public var bestDir: String { (config.outputDir as NSString).appendingPathComponent("best") }
    public var stateDir: String { (config.outputDir as NSString).appendingPathComponent("state") }

    /// `rng` drives dropout (and nothing else in the loop); `validate` scores an encoder (e.g.
    /// `RetrievalValidation(...).closure`).
    public init(tuned: TunedEncoder, pairs: TrainingPairs, builder: UserTextBuilder, config: TrainerConfig,
                rng: SeededRNG, validate: ((SentenceEncoder) throws -> MetricSummary)?) throws {
        guard pairs.count >= 2 else { throw TrainingError.invalid("need at least 2 training pairs, have \(pairs.count)") }
        guard config.batchSize >= 2 else { throw TrainingError.invalid("batch size must be at least 2 (in-batch negatives)") }
        guard config.epochs >= 1 else { throw TrainingError.invalid("epochs must be at least 1") }
        self.tuned = tuned; self.pairs = pairs; self.builder = builder; self.config = config
        self.validate = validate; self.rng = rng
        optimizer = tuned.optimizer(lr: config.lr, weightDecay: config.weightDecay ?? tuned.method.defaultWeightDecay)
        log = MetricsLog(path: (config.outputDir as NSString).appendingPathComponent("metrics.jsonl"))
        loss = MultipleNegativesRankingLoss(scale: config.scale, symmetric: config.symmetric)
        let enc = tuned.encoder
        userIDs = enc.tokenize((0..<pairs.count).map { pairs.texts($0, builder: builder).user }).ids
        itemIDs = enc.tokenize(builder.itemTexts).ids
        targets = pairs.targets
    }

    /// Total optimizer steps of the run (sum of the epochs' batch counts).
    public lazy var totalSteps: Int = (0..<config.epochs).reduce(0) { $0 + batches(epoch: $1).count }

    /// The batches (pair indices, no target twice) of epoch `epoch`.
    public func batches(epoch: Int) -> [[Int]] {
        NoDuplicateBatcher.epochBatches(targets: targets, batchSize: config.batchSize, epoch: epoch, baseSeed: config.dataSeed)
    }

    /// One optimizer step on the pairs `batch`; returns the loss before the update.
    func step(_ batch: [Int], hardNegatives: [Int32]?, stepIndex: Int) throws -> Float {
        // MNRL is invariant to permuting the pairs jointly: order them by user length, and embed the users
        // in chunks of `userChunk`, each padded to its own longest (never to a fixed max length).
        let order = batch.sorted { userIDs[$0].count > userIDs[$1].count || (userIDs[$0].count == userIDs[$1].count && $0 < $1) }
        let pad = tuned.encoder.tokenizer.padID
        let users = stride(from: 0, to: order.count, by: max(1, config.userChunk)).map { start in
            SentenceEncoder.pad(order[start..<min(order.count, start + config.userChunk)].map { userIDs[$0] }, padID: pad)
        }
        var candidateRows = order.map { Int(targets[$0]) }
        if let hardNegatives {
            let inBatch = Set(candidateRows)
            var extra = Set<Int>()
            for i in order { let h = Int(hardNegatives[i]); if !inBatch.contains(h) && extra.insert(h).inserted { candidateRows.append(h) } }
        }
        let items = [SentenceEncoder.pad(candidateRows.map { itemIDs[$0] }, padID: pad)]
        return try contrastiveStep(tuned: tuned, optimizer: optimizer, users: users, items: items, loss: loss,
                                   maxGradNorm: config.maxGradNorm, rng: &rng, dataParallel: config.dataParallel, stepIndex: stepIndex,
                                   lossObserver: lossObserver, lastGood: lastGood, allReduce: allReduce)
    }

    var lastGood: String? = nil
    /// Sums the gradients over the ranks under MPI (its buffer lives as long as the trainer).
    let allReduce = GradientAllReduce()

    /// Runs (or, with `resume` = a state folder, continues) training. Returns the best validation.
    /// A dead run's temporary checkpoint folders in the output folder are removed first (and a `state/` or `best/`
    /// it had moved aside is put back); a resume that cannot load creates nothing.
    public func run(resume: String? = nil) throws -> TrainResult {
        let t0 = Date()
        let fm = FileManager.default
        // Under MPI every rank trains; rank 0 alone writes (checkpoints, state, log, curve).
        let writes = Cluster.isRoot
        if let resume, writes {
            AtomicFolder.cleanStale(in: (resume as NSString).deletingLastPathComponent)
        }
        var state = TrainingState(step: 0, epoch: 0, batchInEpoch: 0, rngWords: rng.words, best: nil, bestStep: -1,
                                  badValidations: 0, method: tuned.method.name)
        var hard: [Int32]? = nil
        if let resume {
            let (s, h) = try TrainingState.load(from: resume, optimizer: optimizer, method: tuned.method.name,
                                                hardNegatives: (pairs.count, itemIDs.count))
            state = s; hard = h
            rng = SeededRNG(words: s.rngWords)
        }
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: config.outputDir, isDirectory: &isDir) && !isDir.boolValue {
            throw TrainingError.file(config.outputDir, "the output folder is a file")
        }
        if writes {
            do { try fm.createDirectory(atPath: config.outputDir, withIntermediateDirectories: true) } catch {
                throw TrainingError.file(config.outputDir, "cannot create the output folder: \((error as NSError).localizedDescription)")
            }
            AtomicFolder.cleanStale(in: config.outputDir)
        }
        if resume != nil {
            log.load(upTo: state.step)
            if fm.fileExists(atPath: bestDir) { lastGood = bestDir }
        }
        if let window = config.hardNegatives, hard == nil {
            hard = mineHardNegatives(encoder: tuned.encoder, pairs: pairs, builder: builder, window: window, seed: config.dataSeed)
        }
        let total = totalSteps
        let warmup = Int((config.warmupFraction * Double(total)).rounded(.up))
        let schedule = LinearWarmupSchedule(base: config.lr, warmup: warmup, total: total)
        var loop = TrainingLoop<MetricSummary>(schedule: schedule, patience: config.patience,
                                               isBetter: { $0.isBetter(than: $1) }, best: state.best,
                                               bestStep: state.bestStep, badValidations: state.badValidations)
        var lastValidatedStep = -1
        var examples = 0, sessionSteps = 0, stepReduced = 0, stepGathered = 0
        let sessionStart = Date()

        func saveState() throws {
            state.rngWords = rng.words
            guard writes else { return }
            try AtomicFolder.replace(stateDir) { try state.save(to: $0, tuned: tuned, optimizer: optimizer, hardNegatives: hard) }
            try log.flush()
            try TrainingCurve.write(log.rows, title: "RecAlign \(tuned.method) — training curve", validationLabel: config.validationLabel,
                                    to: (config.outputDir as NSString).appendingPathComponent("curve.svg"))
        }
        /// Validates; returns true when early stopping triggers.
        func runValidation() throws -> Bool {
            lastValidatedStep = state.step
            guard let validate else {
                // No validation: the latest weights are the checkpoint.
                if writes { try AtomicFolder.replace(bestDir) { try tuned.save(to: $0); try config.provenance?.write(to: $0) } }
                lastGood = bestDir
                return false
            }
            tuned.train(false)
            let m = try validate(tuned.encoder)
            log.append(.valid(step: state.step, metrics: m))
            let verdict = try loop.validated(m, at: state.step) {
                if writes { try AtomicFolder.replace(bestDir) { try tuned.save(to: $0); try config.provenance?.write(to: $0) } }
                lastGood = bestDir
            }
            state.best = loop.best; state.bestStep = loop.bestStep; state.badValidations = loop.badValidations
            progress?(TrainProgress(step: state.step, totalSteps: total, epoch: state.epoch, loss: .nan, lr: optimizer.lr,
                                    examplesPerSecond: 0, eta: 0, validation: m))
            return Cluster.agree(verdict.stop)
        }

        if resume == nil && config.validateAtStart { _ = try runValidation() }
        var reason = "completed"
        outer: while state.epoch < config.epochs {
            let epoch = state.epoch, epochBatches = batches(epoch: epoch)
            while state.epoch == epoch && state.batchInEpoch < epochBatches.count {
                tuned.train(true)
                let batch = epochBatches[state.batchInEpoch]
                var lr: Float = 0
                let (reduced, gathered) = (Cluster.allReducedBytes, Cluster.allGatheredBytes)
                let value = try loop.step(state.step, optimizer: optimizer) { rate in
                    lr = rate
                    return try step(batch, hardNegatives: hard, stepIndex: state.step)
                }
                stepReduced += Cluster.allReducedBytes - reduced; stepGathered += Cluster.allGatheredBytes - gathered
                state.step += 1; state.batchInEpoch += 1
                if state.batchInEpoch == epochBatches.count { state.epoch += 1; state.batchInEpoch = 0 }
                examples += batch.count
                let elapsed = Date().timeIntervalSince(sessionStart)
                let eps = Double(examples) / max(elapsed, 1e-9)
                sessionSteps += 1
                let stepsPerSecond = Double(sessionSteps) / max(elapsed, 1e-9)
                log.append(.train(step: state.step, epoch: state.epoch, loss: Double(value), lr: Double(lr), examplesPerSecond: eps))
                progress?(TrainProgress(step: state.step, totalSteps: total, epoch: state.epoch, loss: value, lr: lr,
                                        examplesPerSecond: eps, eta: Double(total - state.step) / max(stepsPerSecond, 1e-9), validation: nil))
                if state.step % 20 == 0 && writes { try log.flush() }
                if config.evalEvery > 0 && state.step % config.evalEvery == 0 && state.step < total {
                    if try runValidation() { reason = "early stopping"; try saveState(); break outer }
                    try saveState()
                }
                if let stop = config.stopAfterSteps, state.step >= stop, state.step < total {
                    reason = "stopped after \(stop) steps"; try saveState(); break outer
                }
                if let m = config.maxMinutes, Cluster.agree(Date().timeIntervalSince(t0) > m * 60), state.step < total {
                    reason = "time budget"
                    if lastValidatedStep != state.step { _ = try runValidation() }
                    try saveState(); break outer
                }
            }
        }
        if reason == "completed" {
            if lastValidatedStep != state.step { _ = try runValidation() }
            try saveState()
        }
        tuned.train(false)
        var result = TrainResult(steps: state.step, best: state.best, bestStep: state.bestStep, reason: reason,
                                 seconds: Date().timeIntervalSince(t0), bestCheckpoint: lastGood)
        result.allReducedBytesPerStep = Double(stepReduced) / Double(max(1, sessionSteps))
        result.allGatheredBytesPerStep = Double(stepGathered) / Double(max(1, sessionSteps))
        return result
    }
}
