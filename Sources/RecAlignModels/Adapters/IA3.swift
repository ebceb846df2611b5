// IA3: (IA)^3 (Liu et al. 2022; PEFT's IA3): learned vectors that rescale a projection's output or input.
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// A `Linear` whose output (or, for a feed-forward module, input) is rescaled elementwise by `ia3_l`, as
/// PEFT's `ia3.Linear` wraps the layer it adapts: y = l ⊙ (x Wᵀ + b) with `ia3_l` [out, 1], or
/// y = (x ⊙ l) Wᵀ + b with `ia3_l` [1, in]. The vectors start at 1 (the base model).
/// Backward (through `mul`): dl = Σ_rows dy ⊙ (x Wᵀ + b), or Σ_rows (dy W) ⊙ x.
public final class IA3Linear: Module, LinearLayer {
    public let base_layer: Linear
    public let ia3_l: Tensor
    public let feedforward: Bool

    public init(wrapping base: Linear, feedforward: Bool) {
        base_layer = base
        self.feedforward = feedforward
        ia3_l = Tensor.full(feedforward ? [1, base.weight.shape[1]] : [base.weight.shape[0], 1], 1)
        ia3_l.enableGrad()
    }

    public var base: Linear { base_layer }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let l = ia3_l.reshaped([ia3_l.count])
        return feedforward ? base_layer(mul(x, l)) : mul(base_layer(x), l)
    }

    /// (W diag(l), b) for a feed-forward module, else (diag(l) W, l ⊙ b) (PEFT's merge).
    public func merged() -> (weight: Tensor, bias: Tensor?) {
        let w = base_layer.weight.copy(), out = w.shape[0], nIn = w.shape[1], l = ia3_l.data
        for o in 0..<out { for i in 0..<nIn { w.data[o * nIn + i] *= feedforward ? l[i] : l[o] } }
        guard let b = base_layer.bias, !feedforward else { return (w, base_layer.bias) }
        let scaled = b.copy()
        for o in 0..<out { scaled.data[o] *= l[o] }
        return (w, scaled)
    }
}

/// (IA)^3 with PEFT's defaults for BERT: `target_modules` key, value and `output.dense` (the attention output
/// and the feed-forward output projections), of which `output.dense` are feed-forward modules (input scaled).
/// Saves and loads PEFT's folder layout (`adapter_model.safetensors` with `...key.ia3_l` [C, 1] etc.).
public struct IA3Tuning: TuningMethod {
    public static let name = "ia3"
    public static let peftType: String? = "IA3"
    public static let defaultLearningRate: Float = 3e-3
    public static let mergesIntoWeights = true
    public static let targets = ["key", "value", "output.dense"]
    public static let feedforward = ["output.dense"]

    public init(_ options: MethodOptions = MethodOptions()) {}
    public var description: String { "ia3" }

    /// `adapter_config.json` as PEFT's IA3Config reads it.
    struct Config: Codable {
        var peft_type: String? = "IA3"
        var method: String? = nil
        var base_model_name_or_path: String?
        var inference_mode: Bool? = true
        var target_modules: TargetModules? = .list(IA3Tuning.targets)
        var feedforward_modules: TargetModules? = .list(IA3Tuning.feedforward)
        var fan_in_fan_out: Bool? = false
        var init_ia3_weights: Bool? = true
        var modules_to_save: [String]? = nil
    }

    /// PEFT's rule: a module is targeted when its name is a target or ends with "." + a target.
    static func matches(_ module: String, _ names: [String]) -> Bool {
        names.contains { module == $0 || module.hasSuffix("." + $0) }
    }

    public func apply(to encoder: SentenceEncoder, rng: inout SeededRNG) throws -> [(name: String, tensor: Tensor)] {
        for layer in encoder.model.encoder.layer {
            for (module, slot) in BertLayer.projections where Self.matches(module, Self.targets) {
                layer[keyPath: slot] = IA3Linear(wrapping: layer[keyPath: slot].base, feedforward: Self.matches(module, Self.feedforward))
            }
        }
        return encoder.model.trainableParameters()
    }

    public func save(_ encoder: SentenceEncoder, to dir: String) throws {
        try savePeftAdapter(encoder.model, { $0.hasSuffix(".ia3_l") }, to: dir, config: Config(base_model_name_or_path: encoder.folder.path))
    }

    public static func load(_ folder: AdapterFolder, for encoder: SentenceEncoder) throws -> () -> Void {
        let config = try folder.decode(Config.self)
        let file = folder.configPath
        if config.fan_in_fan_out == true { throw FormatError(.unsupported, file: file, field: "fan_in_fan_out", "field 'fan_in_fan_out' must be false") }
        if config.modules_to_save != nil { throw FormatError(.unsupported, file: file, field: "modules_to_save", "field 'modules_to_save' is not supported") }
        let targets = config.target_modules?.names ?? Self.targets, ff = config.feedforward_modules?.names ?? Self.feedforward
        let tensors = try folder.tensors(AdapterFolder.peftWeights)
        var adapted: [(layer: Int, slot: ReferenceWritableKeyPath<BertLayer, any LinearLayer>, ia3: IA3Linear)] = []
        for (i, layer) in encoder.model.encoder.layer.enumerated() {
            for (module, slot) in BertLayer.projections where matches(module, targets) {
                let ia3 = IA3Linear(wrapping: layer[keyPath: slot].base, feedforward: matches(module, ff))
                let name = "encoder.layer.\(i).\(module).ia3_l"
                let stored = tensors.has("base_model.model." + name) || !tensors.has(name) ? "base_model.model." + name : name
                ia3.ia3_l.assign(try tensors.tensor(stored, shape: ia3.ia3_l.shape))
                ia3.freeze()
                adapted.append((i, slot, ia3))
            }
        }
        guard !adapted.isEmpty else {
            throw FormatError(.unsupported, file: file, field: "target_modules", "target_modules \(targets) match none of BERT's projections")
        }
        try tensors.finish("an IA3 adapter for a \(encoder.model.config.numHiddenLayers)-layer model")
        return { for a in adapted { encoder.model.encoder.layer[a.layer][keyPath: a.slot] = a.ia3 } }
    }
}

extension TuningMethod where Self == IA3Tuning {
    public static var ia3: IA3Tuning { IA3Tuning() }
}
