// TrainHeadCommand: `recalign train-head` — adaptor / sequential heads trained on cached item embeddings.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignFormats
import RecAlignRetrieval
import RecAlignHeads
import RecAlignModels
import RecAlignSources
import RecAlignTensor
import RecAlignMetrics

extension AdaptorKind: ExpressibleByArgument {}
extension HeadLoss: ExpressibleByArgument {}
extension ItemInput: ExpressibleByArgument {}

/// The head recipes of the CLI.
enum HeadRecipe: String, ExpressibleByArgument, CaseIterable {
    case linear, moe, seq
}

struct TrainHead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-head",
        abstract: "Train an adaptor or a sequential user tower on cached (frozen) item text embeddings.",
        discussion: """
        linear / moe: item = adaptor(text embedding), user = normalised mean of the last --max-history adapted \
        history items, trained on PROTOCOL section 6 pairs. seq: a transformer over the last --max-history \
        adapted items (causal windows in training, the most recent position at inference). The best epoch \
        by validation Recall@10 (NDCG@10 breaks ties) is saved to --out and tested once.
        """)

    @Option(help: "HF / sentence-transformers model folder (the frozen encoder).")
    var model: String = "checkpoints/all-MiniLM-L6-v2"
    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: "Head: linear, moe (adaptors with a mean user tower) or seq (transformer user tower).")
    var head: HeadRecipe = .seq
    @OptionGroup(title: "Head shape") var shape: HeadShapeOptions
    @OptionGroup(title: "Encoder (stacked or joint training)") var joint: JointOptions
    @Option(help: "Split setting: warm or cold.")
    var setting: EvalSetting = .warm
    @Option(help: "Loss: full (softmax over all train items) or inbatch (MNRL).")
    var loss: HeadLoss = .full
    @Option(help: "Epochs over the training pairs / windows.")
    var epochs: Int = 20
    @Option(help: "AdamW learning rate.")
    var lr: Float = 1e-3
    @Option(help: "AdamW weight decay.")
    var weightDecay: Float = 0.01
    @Option(help: "Pairs (adaptors) or windows (seq) per step.")
    var batchSize: Int = 128
    @Option(help: "Seed of initialisation, dropout and batch order.")
    var seed: UInt64 = 42
    @Option(help: "Stop after this many epochs without a better validation Recall@10 (0 = never).")
    var patience: Int = 0
    @Option(help: "Folder for cached item embeddings.")
    var cacheDir: String = ".cache/recalign"
    @Option(help: "Precision of the frozen encoder that fills the item cache: fp32, int8 or bf16 (as `encode --precision`).")
    var precision: Precision = .fp32
    @Option(help: ArgumentHelp(
        "Weight of the train transitions' term in the head's scores (0: none; default: chosen on validation).",
        discussion: "score = cosine + W · Σ_j 0.5^j · log(1 + count(h_j → item)) over the user's last 3 history items "
            + "(h_0 the most recent), counts of consecutive pairs in the train sequences. Without this option W is "
            + "the best of \(TransitionPrior.weightGrid.map { String(describing: $0) }.joined(separator: ", ")) by validation "
            + "Recall@10, chosen after the epoch; catalogs above \(TransitionPrior.maxItems) items get none."))
    var transitionWeight: Float?
    @Option(help: "Output folder for head.safetensors, head_config.json and metrics.json.")
    var out: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("model folder '\(model)' does not exist") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir) && !isDir.boolValue {
            throw ValidationError("--out '\(out)' is a file; give a folder (it receives head.safetensors, head_config.json, metrics.json)")
        }
        // The head replaces --out as a whole folder: never one that holds something other than a head.
        if isDir.boolValue, let names = try? FileManager.default.contentsOfDirectory(atPath: out), !names.isEmpty,
           !names.contains(HeadFiles.configName) {
            throw ValidationError("--out '\(out)' holds other files and no \(HeadFiles.configName); give a new folder (the head replaces it whole)")
        }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number") }
        if !(weightDecay >= 0) { throw ValidationError("--weight-decay must be >= 0") }
        if batchSize < 2 { throw ValidationError("--batch-size must be at least 2 (in-batch negatives)") }
        if patience < 0 { throw ValidationError("--patience must be >= 0") }
        if shape.bag && head != .seq { throw ValidationError("--bag is part of the seq tower: use it with --head seq") }
        if head != .seq && shape.adaptor == .none { throw ValidationError("--adaptor none only applies to --head seq") }
        if head != .seq && shape.items == .id { throw ValidationError("--items id needs --head seq (the ID-only sequential baseline)") }
        if !(shape.idDropout >= 0 && shape.idDropout < 1) { throw ValidationError("--id-dropout must be in [0, 1)") }
        if precision != .fp32 && (joint.encoder != nil || joint.method != nil) {
            throw ValidationError("--precision applies to the frozen item cache; a tuned or jointly trained encoder runs in fp32")
        }
        if shape.items == .text && shape.idDropout > 0 { throw ValidationError("--id-dropout applies to --items text+id") }
        if let w = transitionWeight, !(w >= 0 && w.isFinite) { throw ValidationError("--transition-weight must be a number >= 0") }
    }

    /// Peak resident set size of this process so far (getrusage; Linux reports KiB).
    func peakRSSMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    func run() throws {
        let t0 = Date()
        let corpus = try corpusOptions.load()
        let (dataset, split, texts) = (corpus.dataset, corpus.split, corpus.itemTexts)
        if let w = transitionWeight, w > 0, split.itemCount > TransitionPrior.maxItems {
            throw ValidationError("--transition-weight \(w): the term is built for catalogs up to \(TransitionPrior.maxItems) items; "
                                  + "\(dataset.name) has \(split.itemCount) (leave the option out, or give 0)")
        }
        // The item embeddings: the base model's (cached on disk), a tuned --encoder's, or joint training's tower.
        let emb: (values: [Float], dim: Int, cached: Bool)
        var tuned: TunedEncoder?
        var jointEncoder: JointEncoder?
        if joint.encoder == nil && joint.method == nil {
            emb = try EmbeddingCache.embeddings(modelPath: model, texts: texts, cacheDir: cacheDir, name: "items-\(dataset.name)",
                                                precision: ModelOptions.plan(precision))
        } else {
            let start = try joint.prepare(base: model, texts: texts, seed: seed, headLr: lr)
            emb = (start.embeddings, start.dim, false)
            tuned = start.tuned; jointEncoder = start.joint
        }
        note("\(dataset.name): \(split.userCount) users, \(split.itemCount) items; item embeddings \(split.itemCount) x \(emb.dim) \(emb.cached ? "from the cache" : "encoded") (\(String(format: "%.1f", Date().timeIntervalSince(t0))) s)")

        // Frozen reference: identity adaptor, user = mean of the last 5 item embeddings.
        let frozen = RecHead(config: HeadConfig(adaptor: .linear, tower: .mean, inputDim: emb.dim, maxHistory: 5, dropout: 0))
        let frozenTest = try HeadEvaluation.evaluate(frozen, itemEmbeddings: emb.values, split: split, stage: .test, setting: setting)
        print("\(joint.encoder == nil ? "frozen" : "start encoder") (user = mean of last 5 items), \(setting.rawValue) test: \(frozenTest.line)")

        let tower: UserTowerKind = head == .seq ? .seq : .mean
        let adaptorKind: AdaptorKind = head == .seq ? shape.adaptor : (head == .linear ? .linear : .moe)
        var config = HeadConfig(adaptor: adaptorKind, tower: tower, inputDim: emb.dim, adaptorDim: shape.adaptorDim,
                                experts: shape.experts, hiddenDim: shape.dim, layers: shape.layers, heads: shape.heads,
                                ffnMultiplier: shape.ffn, maxHistory: shape.maxHistory ?? (head == .seq ? 50 : 5),
                                dropout: shape.dropout, scale: shape.scale, itemInput: shape.items,
                                itemCount: split.itemCount, idDropout: shape.idDropout)
        config.bag = shape.bag
        do { try config.validate() } catch { throw ValidationError("\(error)") }
        let model = RecHead(config: config, seed: seed)
        var options = HeadTrainingOptions()
        options.epochs = epochs; options.lr = lr; options.weightDecay = weightDecay; options.batchSize = batchSize
        options.seed = seed; options.loss = loss; options.patience = patience
        let trainer = try HeadTrainer(head: model, itemEmbeddings: emb.values, split: split, setting: setting, options: options)
        trainer.joint = jointEncoder
        print("head \(head.rawValue): items \(shape.items.rawValue), adaptor \(adaptorKind.rawValue), tower \(tower.rawValue), \(model.parameterCount) parameters, loss \(loss.rawValue), \(setting.rawValue)")
        let result = try trainer.run { e in
            print(String(format: "epoch %3d  loss %.4f  %.1f s  valid %@%@", e.epoch, e.meanLoss, e.trainSeconds, e.valid.line, e.isBest ? "  *" : ""))
            fflush(stdout)
        }
        let grid = transitionWeight.map { [$0] } ?? TransitionPrior.weightGrid
        let byWeight = try HeadEvaluation.chooseTransitionWeight(model, itemEmbeddings: trainer.embeddings, split: split,
                                                                 setting: setting, grid: grid)
        if byWeight.isEmpty {
            note("no transition term: \(dataset.name) has \(split.itemCount) items, above the term's \(TransitionPrior.maxItems)")
        } else {
            print("transition term (last \(config.transitionItems) items, decay \(config.transitionDecay)), valid R@10 by weight: "
                  + byWeight.map { String(format: "%g: %.4f", $0.weight, $0.valid.recall10) }.joined(separator: ", ")
                  + "; weight \(model.config.transitionWeight)")
        }
        let validFused = byWeight.first { $0.weight == model.config.transitionWeight && $0.weight > 0 }?.valid
        // The tower alone and with the chosen term, from one pass over the test users.
        let tests = try HeadEvaluation.evaluate(model, itemEmbeddings: trainer.embeddings, split: split, stage: .test, setting: setting,
                                                transitionWeights: validFused == nil ? [0] : [0, model.config.transitionWeight])
        let (towerTest, test) = (tests[0], tests[tests.count - 1])
        let steps = result.epochs.count * trainer.stepsPerEpoch
        print(String(format: "best epoch %d (valid %@); training %.1f s, %d steps, %.2f steps/s; peak RSS %.0f MB", result.bestEpoch,
                     result.bestValid.line, result.trainSeconds, steps, Double(steps) / max(result.trainSeconds, 1e-9), peakRSSMegabytes()))
        if validFused != nil { print("\(setting.rawValue) test, tower alone: \(towerTest.line)") }
        print("\(setting.rawValue) test: \(test.line)")
        if Cluster.isDistributed {
            note(String(format: "MPI, %d ranks: per step each rank allreduced %.3f MB of gradients", Cluster.size, result.allReducedBytesPerStep / 1e6))
        }
        // Every rank trained the same weights; rank 0 alone writes.
        guard Cluster.isRoot else { return }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var metrics: [String: MetricSummary] = ["frozen_mean5_test": frozenTest, "valid_best": result.bestValid, "test": test]
        if let validFused { metrics["valid_transition"] = validFused; metrics["test_tower_only"] = towerTest }
        // The head's files replace --out as one folder: a kill leaves the old head or the new one.
        AtomicFolder.cleanStale(in: ((out as NSString).standardizingPath as NSString).deletingLastPathComponent)
        try AtomicFolder.replace(out) { dir in
            try HeadFiles.save(model, to: dir)
            let encoderDir = (dir as NSString).appendingPathComponent(HeadFiles.encoderFolder)
            if let tuned { try tuned.save(to: encoderDir) } else if let start = joint.encoder {
                try FileManager.default.copyItem(atPath: start, toPath: encoderDir)
            }
            try Provenance(setting: setting.rawValue, corpus: dataset.name, method: "head \(head.rawValue)" + (joint.method.map { " + \($0) (joint)" } ?? "")).write(to: dir)
            try AtomicFile.write(enc.encode(metrics), to: (dir as NSString).appendingPathComponent("metrics.json"))
        }
        note("saved the head to \(out) (\(String(format: "%.1f", Date().timeIntervalSince(t0))) s in all)")
    }
}
