// JointOptions: the encoder options of `recalign train-head` (stacked on a tuned encoder, or tuned jointly).
import ArgumentParser
import Foundation
import RecAlignModels
import RecAlignHeads
import RecAlignSources
import RecAlignTensor

/// Which encoder the head's items come from, and whether it trains with the head. Without `--method` the
/// encoder (`--encoder`, else the base model) is frozen: with a tuned `--encoder` that is the stacked recipe.
/// With `--method` the encoder's tuned parameters train under the head's loss (joint training).
struct JointOptions: ParsableArguments {
    @Option(help: "Start from this tuned encoder (any `recalign train` output: model or adapter folder) instead of the base model.")
    var encoder: String?
    @Option(help: ArgumentHelp("Train the encoder with the head by this tuning method (joint training).",
                               valueName: TuningMethods.names.joined(separator: "|")))
    var method: String?
    @Option(help: "top-layers: how many of the last encoder layers train.") var topLayers: Int = 1
    @Option(help: "lora: adapt only the last N encoder layers (default: every layer; fewer layers leave more of the encoder cached).")
    var loraLayers: Int?
    @Option(help: "LoRA rank.") var rank: Int = 8
    @Option(help: "LoRA alpha.") var alpha: Float = 16
    @Option(help: "Encoder learning rate (default: the method's; it follows the head's schedule).") var encoderLr: Float?
    @Option(help: "Distinct target items per step re-encoded with gradients into the encoder.") var reencode: Int = 128
    @Option(help: "Re-encode every item's cached embedding every N steps (0: before each validation only).") var refreshEvery: Int = 0
    @Flag(help: "Run every encoder layer per step instead of caching the output of the frozen lower layers (a measurement switch).")
    var noLayerCache = false

    func validate() throws {
        if let encoder {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: encoder, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--encoder '\(encoder)' is not a folder")
            }
            if case .head = TunedSource(path: encoder) { throw ValidationError("--encoder '\(encoder)' is a head; give a model or adapter folder") }
        }
        if let method {
            guard TuningMethods.named(method) != nil else {
                throw ValidationError("--method '\(method)' is not one of \(TuningMethods.names.joined(separator: ", "))")
            }
        } else if encoderLr != nil || noLayerCache {
            throw ValidationError("--encoder-lr and --no-layer-cache apply to joint training (--method)")
        }
        if topLayers < 1 { throw ValidationError("--top-layers must be at least 1") }
        if let k = loraLayers, k < 1 { throw ValidationError("--lora-layers must be at least 1") }
        if rank < 1 { throw ValidationError("--rank must be at least 1") }
        if !(alpha > 0 && alpha.isFinite) { throw ValidationError("--alpha must be a positive number") }
        if let lr = encoderLr, !(lr > 0 && lr.isFinite) { throw ValidationError("--encoder-lr must be a positive number") }
        if reencode < 1 { throw ValidationError("--reencode must be at least 1") }
        if refreshEvery < 0 { throw ValidationError("--refresh-every must be >= 0") }
    }

    /// The starting encoder: `--encoder` (a model folder, or an adapter on `base`), else `base`.
    func loadEncoder(base: String) throws -> SentenceEncoder {
        guard let encoder else { return try SentenceEncoder(path: base) }
        return try TunedSource(path: encoder).encoder(base: base, maxLength: nil)!
    }

    /// The tuning method of joint training, nil when the encoder stays frozen.
    func makeMethod() throws -> (any TuningMethod)? {
        guard let method else { return nil }
        var o = MethodOptions()
        o.layers = topLayers; o.rank = rank; o.alpha = alpha; o.loraLayers = loraLayers
        return try TuningMethods.make(method, o)
    }

    /// The encoder's item embeddings [n, dim] and, with `--method`, the tuned encoder and the encoder half of
    /// joint training (its item tower, optimizer at the encoder's rate relative to the head's `headLr`).
    func prepare(base: String, texts: [String], seed: UInt64, headLr: Float) throws
        -> (embeddings: [Float], dim: Int, tuned: TunedEncoder?, joint: JointEncoder?) {
        let encoder = try loadEncoder(base: base)
        guard let method = try makeMethod() else {
            return (encoder.encode(texts, batchSize: 64).values, encoder.dimension, nil, nil)
        }
        var rng = SeededRNG(seed: seed)
        let tuned = try TunedEncoder(method, encoder: encoder, rng: &rng)
        let tower = ItemTextTower(encoder: encoder, texts: texts, useCache: !noLayerCache)
        let lr = encoderLr ?? method.defaultLearningRate
        let joint = JointEncoder(tower: tower, optimizer: tuned.optimizer(lr: lr, weightDecay: method.defaultWeightDecay),
                                 rateFactor: lr / headLr, reencode: reencode, refreshEvery: refreshEvery)
        note("joint training: \(method), \(tuned.trainable.reduce(0) { $0 + $1.tensor.count }) encoder parameters train at lr \(lr); "
             + (tower.firstTrained > 0 ? "layers 0..<\(tower.firstTrained) cached (\(tower.cacheBytes / 1_000_000) MB)" : "no layer cache"))
        return (tower.refresh(), tower.dim, tuned, joint)
    }
}
