// LoRA: a low-rank update y = W x + b + (α/r) B A x wrapped around a frozen projection (Hu et al.; PEFT's LoRA).
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// A `Linear` with a LoRA update beside it, as PEFT's `lora.Linear` wraps the layer it adapts: `base_layer`
/// (frozen), `lora_A` [r, in] Kaiming-uniform and `lora_B` [out, r] zeros (so the adapted model starts equal
/// to the base model), output scaled by α / r. The module path gives PEFT's tensor names
/// (`...attention.self.query.lora_A.weight`).
public final class LoRALinear: Module, LinearLayer {
    public let base_layer: Linear
    public let lora_A: Linear
    public let lora_B: Linear
    public let scaling: Float

    public init(wrapping base: Linear, rank r: Int, alpha: Float, rng: inout SeededRNG) {
        let out = base.weight.shape[0], nIn = base.weight.shape[1]
        base_layer = base
        // kaiming_uniform_(a=√5) on [r, in]: bound = √(6 / ((1 + 5) · in)) = 1/√in, torch.nn.Linear's own init.
        lora_A = Linear(nIn, r, bias: false, rng: &rng)
        lora_B = Linear(weight: Tensor(zeros: [out, r], requiresGrad: true), bias: nil)
        scaling = alpha / Float(r)
    }

    public var base: Linear { base_layer }

    /// x [..., in] -> x Wᵀ + b + (α/r) · (x Aᵀ) Bᵀ [..., out].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        add(base_layer(x), scale(lora_B(lora_A(x)), scaling))
    }

    /// (W + (α/r) · B A, b): the update merged into a copy of the base weight.
    public func merged() -> (weight: Tensor, bias: Tensor?) {
        let w = base_layer.weight.copy()
        let out = lora_B.weight.shape[0], r = lora_B.weight.shape[1], nIn = lora_A.weight.shape[1]
        BLAS.gemm(transA: false, transB: false, m: out, n: nIn, k: r, alpha: scaling, a: lora_B.weight.data, lda: r,
                  b: lora_A.weight.data, ldb: nIn, beta: 1, c: w.data, ldc: nIn)
        return (w, base_layer.bias)
    }
}

/// LoRA on the query and value projections of every layer, or of the layers listed (PEFT's `layers_to_transform`;
/// the upper layers only lets joint training cache the frozen layers below). Saves and
/// loads PEFT's folder layout (`adapter_model.safetensors` + `adapter_config.json`), which PEFT and
/// sentence-transformers' `load_adapter` read; also loads RecAlign's earlier layout (`method` "lora",
/// `adapter.safetensors` with `query_lora.lora_A` names).
public struct LoRATuning: TuningMethod {
    public static let name = "lora"
    public static let peftType: String? = "LORA"
    public static let defaultLearningRate: Float = 5e-4
    public static let mergesIntoWeights = true
    /// The projections RecAlign's LoRA adapts (module names below a BertLayer's `attention.self`).
    public static let modules = ["query", "value"]
    public let rank: Int
    public let alpha: Float
    /// Only the last this many layers are adapted (nil: every layer).
    public let lastLayers: Int?

    public init(_ o: MethodOptions) throws { self.init(rank: o.rank, alpha: o.alpha, lastLayers: o.loraLayers) }
    public init(rank: Int, alpha: Float, lastLayers: Int? = nil) { self.rank = rank; self.alpha = alpha; self.lastLayers = lastLayers }
    public var description: String { "lora(r \(rank), alpha \(alpha)" + (lastLayers.map { ", last \($0) layers" } ?? "") + ")" }

    /// The adapted layer indices of an `n`-layer model; nil when every layer is.
    func layerIndices(of n: Int) -> [Int]? { lastLayers.map { Array(max(0, n - $0)..<n) } }

    /// PEFT's name of matrix `AorB` ("A" or "B") of `module` in layer `layer`.
    public static func tensorName(layer: Int, module: String, _ AorB: String) -> String {
        "base_model.model.encoder.layer.\(layer).attention.self.\(module).lora_\(AorB).weight"
    }

    /// `adapter_config.json` as PEFT's LoraConfig reads it. Fields that change what the matrices mean are
    /// read so that a value other than PEFT's default is refused.
    struct Config: Codable {
        var peft_type: String? = "LORA"
        var method: String? = nil
        var base_model_name_or_path: String?
        var inference_mode: Bool? = true
        var r: Int
        var lora_alpha: Double
        var lora_dropout: Double? = 0
        var target_modules: TargetModules? = .list(LoRATuning.modules)
        var bias: String? = "none"
        var fan_in_fan_out: Bool? = false
        var use_rslora: Bool? = false
        var use_dora: Bool? = false
        var init_lora_weights: Bool? = true
        var layers_to_transform: [Int]? = nil
        var modules_to_save: [String]? = nil
        var rank_pattern: [String: Int]? = [:]
        var alpha_pattern: [String: Double]? = [:]
    }

    public func apply(to encoder: SentenceEncoder, rng: inout SeededRNG) throws -> [(name: String, tensor: Tensor)] {
        guard rank >= 1 else { throw TuningMethodError("lora: rank \(rank) must be >= 1") }
        let layers = encoder.model.encoder.layer
        if let k = lastLayers, !(1...layers.count).contains(k) {
            throw TuningMethodError("lora: \(k) last layers of a \(layers.count)-layer model")
        }
        for i in layerIndices(of: layers.count) ?? Array(layers.indices) {
            let sa = layers[i].attention.selfAttention
            sa.query = LoRALinear(wrapping: sa.query.base, rank: rank, alpha: alpha, rng: &rng)
            sa.value = LoRALinear(wrapping: sa.value.base, rank: rank, alpha: alpha, rng: &rng)
        }
        return encoder.model.trainableParameters()
    }

    public func save(_ encoder: SentenceEncoder, to dir: String) throws {
        try savePeftAdapter(encoder.model, { $0.contains(".lora_") }, to: dir,
                            config: Config(base_model_name_or_path: encoder.folder.path, r: rank, lora_alpha: Double(alpha),
                                           layers_to_transform: layerIndices(of: encoder.model.encoder.layer.count)))
    }

    public static func load(_ folder: AdapterFolder, for encoder: SentenceEncoder) throws -> () -> Void {
        let config = try folder.decode(Config.self)
        let file = folder.configPath
        guard config.r >= 1 else { throw FormatError(.badValue, file: file, field: "r", "field 'r' must be an integer >= 1") }
        let peft = folder.peftType != nil
        let targets = peft ? try checkedTargets(config, file: file) : modules
        let tensors = try folder.tensors(peft ? AdapterFolder.peftWeights : AdapterFolder.recAlignWeights)
        let cfg = encoder.model.config, c = cfg.hiddenSize
        func name(_ layer: Int, _ module: String, _ AorB: String) -> String {
            guard peft else { return "encoder.layer.\(layer).attention.self.\(module)_lora.lora_\(AorB)" }
            // With or without the PeftModel wrapper's prefix.
            let full = tensorName(layer: layer, module: module, AorB), bare = String(full.dropFirst("base_model.model.".count))
            return !tensors.has(full) && tensors.has(bare) ? bare : full
        }
        var rng = SeededRNG(seed: 0)
        var adapted: [(layer: Int, slot: ReferenceWritableKeyPath<BertLayer, any LinearLayer>, lora: LoRALinear)] = []
        // PEFT's layers_to_transform: indices below the model's layer count, each once (nil: every layer).
        var layerList = Array(0..<cfg.numHiddenLayers)
        if let listed = config.layers_to_transform {
            guard !listed.isEmpty, listed.allSatisfy({ (0..<cfg.numHiddenLayers).contains($0) }), Set(listed).count == listed.count else {
                throw FormatError(.badValue, file: file, field: "layers_to_transform",
                                  "layers_to_transform \(listed) must list distinct layers of 0..<\(cfg.numHiddenLayers)")
            }
            layerList = listed.sorted()
        }
        for i in layerList {
            for module in targets {
                let slot = BertLayer.projections.first { $0.name == "attention.self." + module }!.slot
                let lora = LoRALinear(wrapping: encoder.model.encoder.layer[i][keyPath: slot].base, rank: config.r,
                                      alpha: Float(config.lora_alpha), rng: &rng)
                lora.lora_A.weight.assign(try tensors.matrix(name(i, module, "A"), rows: config.r, cols: c))
                lora.lora_B.weight.assign(try tensors.matrix(name(i, module, "B"), rows: c, cols: config.r))
                lora.freeze()
                adapted.append((i, slot, lora))
            }
        }
        try tensors.finish("a LoRA adapter for a \(cfg.numHiddenLayers)-layer model")
        return { for a in adapted { encoder.model.encoder.layer[a.layer][keyPath: a.slot] = a.lora } }
    }

    /// The adapted projections named by PEFT's `target_modules`, refusing what this LoRA cannot express.
    static func checkedTargets(_ config: Config, file: String) throws -> [String] {
        guard let names = config.target_modules?.names else {
            throw FormatError(.badValue, file: file, field: "target_modules", "field 'target_modules' must be a list of module names")
        }
        let unsupported = names.filter { !modules.contains($0) }
        guard unsupported.isEmpty, !names.isEmpty else {
            throw FormatError(.unsupported, file: file, field: "target_modules", "target_modules \(names): RecAlign's LoRA adapts only "
                              + "query and value, not " + (unsupported.isEmpty ? "an empty list" : unsupported.joined(separator: ", ")))
        }
        // Options that change what the matrices mean must keep PEFT's defaults.
        let nonDefault: [(String, Bool)] = [
            ("bias", (config.bias ?? "none") != "none"), ("fan_in_fan_out", config.fan_in_fan_out == true),
            ("use_rslora", config.use_rslora == true), ("use_dora", config.use_dora == true),
            ("modules_to_save", config.modules_to_save != nil),
            ("rank_pattern", !(config.rank_pattern ?? [:]).isEmpty), ("alpha_pattern", !(config.alpha_pattern ?? [:]).isEmpty),
        ]
        if let (key, _) = nonDefault.first(where: { $0.1 }) {
            throw FormatError(.unsupported, file: file, field: key, "field '\(key)' is not PEFT's default; RecAlign reads LoRA adapters with PEFT's default for it only")
        }
        return modules.filter(names.contains)
    }
}

/// PEFT's `target_modules`: a list of names or one name.
enum TargetModules: Codable {
    case list([String])
    case one(String)

    var names: [String] { switch self { case let .list(l): return l; case let .one(s): return [s] } }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .one(s) } else { self = .list(try c.decode([String].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self { case let .list(l): try c.encode(l); case let .one(s): try c.encode(s) }
    }
}

extension TuningMethod where Self == LoRATuning {
    public static func lora(rank: Int, alpha: Float) -> LoRATuning { LoRATuning(rank: rank, alpha: alpha) }
}
