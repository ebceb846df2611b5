// TrainCommand: `recalign train` — tune an encoder on a corpus's training pairs with any registered tuning method.
import ArgumentParser
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignData
import RecAlignFormats
import RecAlignRetrieval
import RecAlignTraining
import RecAlignTensor


struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune an encoder on a corpus's training pairs with in-batch negatives (MNRL).",
        discussion: """
        Writes into --out: best/ (the best checkpoint by validation Recall@10, NDCG@10 breaking ties: a \
        sentence-transformers folder for full / top-layers, a PEFT adapter folder for weight adapters (LoRA, IA3), \
        adapter.safetensors + adapter_config.json for prompt / prefix), state/ (resume with --resume OUT/state), metrics.jsonl and curve.svg.
        """)

    @Option(help: "Base HF / sentence-transformers model folder.") var model: String = "checkpoints/all-MiniLM-L6-v2"
    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: ArgumentHelp("Tuning method.", valueName: TuningMethods.names.joined(separator: "|"))) var method: String
    @Option(help: "top-layers: how many of the last encoder layers train.") var layers: Int = 2
    @Option(help: "prompt / prefix: number of virtual tokens.") var promptLength: Int = 20
    @Option(help: "prompt: initialise from this text's token embeddings (default: random vocabulary rows).") var promptInit: String?
    @Flag(help: "prompt: count the virtual tokens in mean pooling (default: pool the text's own tokens only).") var poolVirtualTokens = false
    @Flag(help: "prefix: initialise from the key / value projections of random vocabulary rows (default Normal(0, 0.02)).") var prefixFromVocabulary = false
    @Option(help: "LoRA rank.") var rank: Int = 8
    @Option(help: "lora: adapt only the last N encoder layers (PEFT's layers_to_transform; default: every layer).") var loraLayers: Int?
    @Option(help: "LoRA alpha.") var alpha: Float = 16
    @Option(help: "warm | cold: which train split and validation users.") var setting: EvalSetting = .warm
    @Option(help: "Train on a seeded uniform subsample of this many pairs (0: all).") var pairs: Int = 0
    @Option(help: "Seed of the pair subsample.") var pairsSeed: UInt64 = 42
    @Option(help: "Epochs.") var epochs: Int = 1
    @Option(help: "Pairs per batch.") var batchSize: Int = 32
    @Option(help: "Peak learning rate (default: \(TuningMethods.all.map { "\($0.name) \($0.defaultLearningRate)" }.joined(separator: ", "))).")
    var lr: Float?
    @Option(help: "AdamW weight decay (default: 0.01 fine-tuning, 0 adapters).") var weightDecay: Float?
    @Option(help: "Max tokens per text incl. [CLS]/[SEP] (user texts are built to fit it).") var maxLength: Int = 128
    @Option(help: "Validate every N steps (0: at the start and the end only).") var evalEvery: Int = 0
    @Option(help: "Early stopping after P validations without improvement (0: off).") var patience: Int = 0
    @Option(help: "Seed of initialisation and dropout.") var seed: UInt64 = 42
    @Option(help: "Encoder dropout, hidden states and attention (default: the model's config.json).") var dropout: Double?
    @Option(help: "Output folder.") var out: String
    @Option(help: "Resume from a state folder (OUT/state) of an earlier run with the same settings.") var resume: String?
    @Option(help: "Stop (resumably) after this many minutes.") var maxMinutes: Double?
    @Option(help: "MNRL scale: the loss is cross-entropy over scale x cosine (sentence-transformers' default 20).") var scale: Float = 20
    @Flag(help: "Add the item-to-user term to the loss.") var symmetric = false
    @Flag(help: "Add one hard negative per pair mined by the frozen encoder (ranks --hard-window).") var hardNegatives = false
    @Option(help: "Rank window of hard negatives, lo-hi.") var hardWindow: String = "30-100"
    @Option(help: "User texts per encoder sub-batch (length bucketing inside a batch).") var userChunk: Int = 16
    @Flag(name: [.customLong("merge"), .customLong("merge-lora")],
          help: "Weight adapters (LoRA, IA3): also write the merged model folder to OUT/merged (PEFT's merge_and_unload).")
    var mergeLora = false
    @Flag(help: "After training, score the best checkpoint on the test split of the setting too.") var test = false
    @OptionGroup(title: "Text popularity prior (validate and test with it; default weight 1/--scale)") var priorOptions: PriorOptions

    func validate() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("model folder '\(model)' does not exist") }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let k = loraLayers, k < 1 || method != LoRATuning.name { throw ValidationError("--lora-layers takes a count >= 1 and applies to --method lora") }
        if batchSize < 2 { throw ValidationError("--batch-size must be at least 2 (in-batch negatives)") }
        if pairs < 0 { throw ValidationError("--pairs must be >= 0") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number") }
        if !(scale > 0 && scale.isFinite) { throw ValidationError("--scale must be a positive number") }
        if maxLength < 8 { throw ValidationError("--max-length must be at least 8") }
        if evalEvery < 0 || patience < 0 { throw ValidationError("--eval-every and --patience must be >= 0") }
        if patience > 0 && evalEvery == 0 { throw ValidationError("--patience needs --eval-every N (validations to count)") }
        if let m = maxMinutes, !(m > 0) { throw ValidationError("--max-minutes must be positive") }
        if let dropout, !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1)") }
        if userChunk < 1 { throw ValidationError("--user-chunk must be at least 1") }
        guard let type = TuningMethods.named(method) else {
            throw ValidationError("--method '\(method)' is not one of \(TuningMethods.names.joined(separator: ", "))")
        }
        if layers < 1 { throw ValidationError("--layers must be at least 1") }
        if promptLength < 1 { throw ValidationError("--prompt-length must be at least 1") }
        if rank < 1 || !(alpha > 0) { throw ValidationError("--rank must be >= 1 and --alpha > 0") }
        if promptInit != nil && method != SoftPromptTuning.name { throw ValidationError("--prompt-init only applies to --method prompt") }
        if poolVirtualTokens && method != SoftPromptTuning.name { throw ValidationError("--pool-virtual-tokens only applies to --method prompt") }
        if mergeLora && !type.mergesIntoWeights {
            throw ValidationError("--merge only applies to weight adapters (\(TuningMethods.all.filter { $0.mergesIntoWeights }.map { $0.name }.joined(separator: ", ")))")
        }
        if hardNegatives { _ = try parseWindow() }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir) && !isDir.boolValue {
            throw ValidationError("--out '\(out)' is a file; give a folder (it receives best/, state/, metrics.jsonl, curve.svg)")
        }
        if let resume, !FileManager.default.fileExists(atPath: resume + "/state.json") {
            throw ValidationError("--resume '\(resume)' holds no state.json")
        }
    }

    func parseWindow() throws -> HardNegativeWindow {
        let parts = hardWindow.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, parts[0] >= 1, parts[1] > parts[0] else { throw ValidationError("--hard-window must be lo-hi with 1 <= lo < hi") }
        return HardNegativeWindow(lower: parts[0], upper: parts[1])
    }

    /// The registry's method with this command's options.
    func makeMethod() throws -> any TuningMethod {
        var o = MethodOptions()
        o.layers = layers; o.promptLength = promptLength; o.promptInit = promptInit; o.poolVirtualTokens = poolVirtualTokens
        o.prefixFromVocabulary = prefixFromVocabulary; o.rank = rank; o.alpha = alpha
        o.loraLayers = loraLayers
        return try TuningMethods.make(method, o)
    }

    func run() throws {
        let t0 = Date()
        let corpus = try corpusOptions.load()
        let (dataset, split, itemTexts) = (corpus.dataset, corpus.split, corpus.itemTexts)
        let encoder = try SentenceEncoder(path: model, maxLength: maxLength, dropout: dropout)
        // The soft prompt's virtual tokens come on top of the text; the position table bounds the two together.
        let positions = encoder.model.config.maxPositionEmbeddings
        if method == SoftPromptTuning.name && promptLength + 8 > positions {
            throw ValidationError("--prompt-length \(promptLength) leaves fewer than 8 of the model's \(positions) positions for the text")
        }
        let builder = UserTextBuilder(itemTexts: itemTexts, maxLength: maxLength, tokenCount: { encoder.tokenizer.countTokens($0) })
        var all = TrainingPairs(sequences: split.trainSequences(setting))
        let allCount = all.count
        if pairs > 0 { all = all.subsampled(pairs, seed: pairsSeed) }
        var rng = SeededRNG(seed: seed)
        let tuningMethod = try makeMethod()
        let tuned = try TunedEncoder(tuningMethod, encoder: encoder, rng: &rng)
        var cfg = TrainerConfig(outputDir: out)
        cfg.provenance = Provenance(setting: setting.rawValue, corpus: dataset.name, method: tuningMethod.name)
        cfg.epochs = epochs; cfg.batchSize = batchSize; cfg.lr = lr ?? tuningMethod.defaultLearningRate; cfg.weightDecay = weightDecay
        cfg.scale = scale; cfg.symmetric = symmetric; cfg.hardNegatives = hardNegatives ? try parseWindow() : nil
        cfg.evalEvery = evalEvery; cfg.patience = patience; cfg.maxMinutes = maxMinutes; cfg.userChunk = userChunk
        var validation = RetrievalValidation(split: split, builder: builder, stage: .valid, setting: setting)
        let priorTarget = priorOptions.target(split: split, setting: setting, fallback: 1 / Double(scale))
        validation.prior = priorTarget
        if priorOptions.prior { cfg.validationLabel = "validation metric (cosine + text prior)" }
        let trainer = try Trainer(tuned: tuned, pairs: all, builder: builder, config: cfg, rng: rng, validate: validation.closure)
        let trainableCount = tuned.trainable.reduce(0) { $0 + $1.tensor.count }
        note("\(dataset.name): \(all.count) of \(allCount) \(setting.rawValue) training pairs; method \(tuningMethod); "
             + "\(trainableCount) trainable parameters; lr \(cfg.lr); \(trainer.totalSteps) steps of \(batchSize); "
             + "validation on \(validation.userTexts.count) users")
        let bar = ProgressBar("train", total: trainer.totalSteps, unit: "steps")
        trainer.progress = { p in
            if let v = p.validation {
                note(String(format: "\nstep %d valid: Recall@10 %.4f  NDCG@10 %.4f  MRR@10 %.4f  Recall@50 %.4f",
                            p.step, v.recall10, v.ndcg10, v.mrr10, v.recall50))
            } else {
                bar.update(p.step, extra: String(format: "loss %.4f  lr %.2e  %.1f ex/s", p.loss, p.lr, p.examplesPerSecond))
            }
        }
        let result = try trainer.run(resume: resume)
        note(String(format: "\n%@ after %d steps in %.1f s (wall, incl. validation)", result.reason, result.steps, result.seconds))
        if Cluster.isDistributed {
            note(String(format: "MPI, %d ranks: per step each rank allreduced %.3f MB of gradients and all-gathered %.3f MB of embeddings",
                        Cluster.size, result.allReducedBytesPerStep / 1e6, result.allGatheredBytesPerStep / 1e6))
        }
        // Every rank trained the same weights; rank 0 alone writes (the test below is scored by every rank).
        if mergeLora && Cluster.isRoot {
            let dir = (out as NSString).appendingPathComponent("merged")
            let best = try SentenceEncoder(path: model, maxLength: maxLength)
            try loadAdapter(trainer.bestDir, into: best)
            try AtomicFolder.replace(dir) { try saveModelFolder(best, to: $0) }
            note("merged model written to \(dir)")
        }
        var summary: [String: Any] = ["method": tuningMethod.name, "steps": result.steps, "best_step": result.bestStep,
                                      "reason": result.reason, "seconds": result.seconds, "pairs": all.count,
                                      "best_checkpoint": trainer.bestDir, "total_seconds": Date().timeIntervalSince(t0),
                                      "prior": priorOptions.prior, "prior_weight": priorTarget?.weight ?? 0, "prior_recent": priorOptions.priorRecent]
        if let b = result.best {
            summary["valid"] = ["Recall@10": b.recall10, "NDCG@10": b.ndcg10, "MRR@10": b.mrr10, "Recall@50": b.recall50, "users": b.users]
            print(String(format: "best validation (step %d): Recall@10 %.4f  NDCG@10 %.4f  MRR@10 %.4f  Recall@50 %.4f",
                         result.bestStep, b.recall10, b.ndcg10, b.mrr10, b.recall50))
        }
        if test {
            let best = try SentenceEncoder(path: tuningMethod.savesWholeModel ? trainer.bestDir : model, maxLength: maxLength)
            if !tuningMethod.savesWholeModel { try loadAdapter(trainer.bestDir, into: best) }
            var testing = RetrievalValidation(split: split, builder: builder, stage: .test, setting: setting)
            testing.prior = priorTarget
            let t = try testing.evaluate(best)
            summary["test"] = ["Recall@10": t.recall10, "NDCG@10": t.ndcg10, "MRR@10": t.mrr10, "Recall@50": t.recall50, "users": t.users]
            print(String(format: "best checkpoint on %@ test: Recall@10 %.4f  NDCG@10 %.4f  MRR@10 %.4f  Recall@50 %.4f (%d users)",
                         setting.rawValue, t.recall10, t.ndcg10, t.mrr10, t.recall50, t.users))
        }
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(data: data, encoding: .utf8)!)
    }
}
