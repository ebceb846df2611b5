// TuningMethod: which parameters a run trains (full, top layers, soft prompt, prefix, LoRA) and how they are set up.
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignTensor

/// A parameter-efficient or full tuning method.
public enum TuningMethod: Equatable, Sendable, CustomStringConvertible {
    /// Every encoder weight.
    case full
    /// The last `n` encoder layers (embeddings and lower layers frozen).
    case topLayers(Int)
    /// A soft prompt of `length` vectors after [CLS] (Lester et al.), initialised from the word
    /// embeddings of `initText`'s tokens (repeated / cut to `length`) or, when nil, of random vocabulary rows.
    case prompt(length: Int, initText: String?)
    /// Per-layer key / value prefixes of `length` vectors (P-tuning v2 without reparametrisation).
    /// `fromVocabulary`: the key / value projections of random vocabulary rows; else Normal(0, 0.02).
    case prefix(length: Int, fromVocabulary: Bool)
    /// LoRA on the query and value projections of every layer.
    case lora(rank: Int, alpha: Float)

    /// Short name used in files and on the command line.
    public var name: String {
        switch self {
        case .full: return "full"
        case .topLayers: return "top-layers"
        case .prompt: return "prompt"
        case .prefix: return "prefix"
        case .lora: return "lora"
        }
    }

    public var description: String {
        switch self {
        case .full: return "full"
        case let .topLayers(n): return "top-layers(\(n))"
        case let .prompt(n, t): return "prompt(\(n)\(t.map { ", init \"\($0)\"" } ?? ", random vocab"))"
        case let .prefix(n, v): return "prefix(\(n)\(v ? ", vocab" : ", normal 0.02"))"
        case let .lora(r, a): return "lora(r \(r), alpha \(a))"
        }
    }

    /// True for methods whose checkpoint is a whole model folder (the others save a small adapter).
    public var savesWholeModel: Bool {
        switch self { case .full, .topLayers: return true; default: return false }
    }

    /// AdamW weight decay: 0.01 for fine-tuning, 0 for prompt / prefix / LoRA (PROTOCOL section 6).
    public var defaultWeightDecay: Float { savesWholeModel ? 0.01 : 0 }
}

/// One layer's trainable prefix keys and values, each [P, C].
public final class PrefixPair: Module {
    public let key: Tensor
    public let value: Tensor
    public init(key: Tensor, value: Tensor) { self.key = key; self.value = value }
}

/// The trainable inputs of prompt methods, as a Module so they are reachable by name
/// (`soft_prompt`, `prefix.3.key`, ...).
public final class PromptParameters: Module {
    public let soft_prompt: Tensor?
    public let prefix: [PrefixPair]
    public init(softPrompt: Tensor?, prefix: [PrefixPair]) { soft_prompt = softPrompt; self.prefix = prefix }

    /// The `PromptInputs` the encoder consumes.
    public var inputs: PromptInputs {
        PromptInputs(softPrompt: soft_prompt, prefixes: prefix.isEmpty ? nil : prefix.map { ($0.key, $0.value) })
    }
}

/// A tuning method applied to an encoder: everything is frozen except the method's own parameters,
/// which `trainable` lists by name.
public final class TunedEncoder {
    public let method: TuningMethod
    public let encoder: SentenceEncoder
    /// Soft prompt / prefixes (nil for the other methods).
    public let promptParameters: PromptParameters?

    /// Freezes `encoder` and adds / unfreezes the method's parameters. Random initialisation draws from `rng`.
    public init(_ method: TuningMethod, encoder: SentenceEncoder, rng: inout SeededRNG) throws {
        self.method = method
        self.encoder = encoder
        let model = encoder.model
        let cfg = model.config
        model.freeze()
        var prompts: PromptParameters? = nil
        switch method {
        case .full:
            model.unfreeze()
        case let .topLayers(n):
            guard n >= 1 && n <= cfg.numHiddenLayers else {
                throw TrainingError.invalid("top-layers: --layers \(n) must be in 1...\(cfg.numHiddenLayers)")
            }
            for layer in model.encoder.layer.suffix(n) { layer.unfreeze() }
        case let .prompt(n, text):
            guard n >= 1 && n + 2 < encoder.maxLength else {
                throw TrainingError.invalid("prompt: length \(n) must be in 1...\(encoder.maxLength - 3)")
            }
            let table = model.embeddings.word_embeddings.weight
            var rows: [Int32]
            if let text, !text.isEmpty {
                let ids = encoder.tokenizer.tokenIDs(text)
                guard !ids.isEmpty else { throw TrainingError.invalid("prompt init text '\(text)' has no tokens") }
                rows = (0..<n).map { ids[$0 % ids.count] }
            } else {
                // Random rows among the ordinary tokens (BERT vocabularies put [unused]/specials first).
                let lo = min(1000, table.shape[0] - 1)
                rows = (0..<n).map { _ in Int32(lo + Int(rng.next() % UInt64(table.shape[0] - lo))) }
            }
            let p = Tensor(zeros: [n, cfg.hiddenSize], requiresGrad: true)
            for (i, r) in rows.enumerated() { (p.data + i * cfg.hiddenSize).update(from: table.data + Int(r) * cfg.hiddenSize, count: cfg.hiddenSize) }
            prompts = PromptParameters(softPrompt: p, prefix: [])
        case let .prefix(n, fromVocab):
            guard n >= 1 else { throw TrainingError.invalid("prefix: length \(n) must be >= 1") }
            var pairs: [PrefixPair] = []
            let table = model.embeddings.word_embeddings.weight
            for layer in model.encoder.layer {
                if fromVocab {
                    let lo = min(1000, table.shape[0] - 1)
                    let ids = (0..<n).map { _ in Int32(lo + Int(rng.next() % UInt64(table.shape[0] - lo))) }
                    let x = Autograd.noGrad { embedding(table, ids: ids) }
                    let sa = layer.attention.selfAttention
                    let k = Autograd.noGrad { sa.key(x) }.copy(), v = Autograd.noGrad { sa.value(x) }.copy()
                    k.enableGrad(); v.enableGrad()
                    pairs.append(PrefixPair(key: k, value: v))
                } else {
                    pairs.append(PrefixPair(key: .normal([n, cfg.hiddenSize], std: 0.02, rng: &rng, requiresGrad: true),
                                            value: .normal([n, cfg.hiddenSize], std: 0.02, rng: &rng, requiresGrad: true)))
                }
            }
            prompts = PromptParameters(softPrompt: nil, prefix: pairs)
        case let .lora(r, alpha):
            guard r >= 1 else { throw TrainingError.invalid("lora: rank \(r) must be >= 1") }
            for layer in model.encoder.layer {
                let sa = layer.attention.selfAttention
                sa.query_lora = LoRA(nIn: cfg.hiddenSize, nOut: cfg.hiddenSize, rank: r, alpha: alpha, rng: &rng)
                sa.value_lora = LoRA(nIn: cfg.hiddenSize, nOut: cfg.hiddenSize, rank: r, alpha: alpha, rng: &rng)
            }
        }
        promptParameters = prompts
        encoder.prompts = prompts?.inputs ?? PromptInputs()
        model.packFrozenWeights()
    }

    /// The method's parameters by name (model paths for full / top-layers / LoRA; `soft_prompt`,
    /// `prefix.i.key|value` for prompt methods). Only these receive gradients.
    public var trainable: [(name: String, tensor: Tensor)] {
        if let promptParameters { return promptParameters.trainableParameters() }
        return encoder.model.trainableParameters()
    }

    /// Parameters an adapter file holds (prompt, prefix, LoRA); empty for whole-model methods.
    public var adapterParameters: [(name: String, tensor: Tensor)] {
        switch method {
        case .full, .topLayers: return []
        case .lora: return encoder.model.namedParameters().filter { $0.name.contains("_lora.") }
        case .prompt, .prefix: return promptParameters?.namedParameters() ?? []
        }
    }

    /// AdamW over the trainable parameters (no decay on biases and LayerNorm weights).
    public func optimizer(lr: Float, weightDecay: Float) -> AdamW {
        AdamW(trainable.map { p in
            let noDecay = p.name.hasSuffix("bias") || p.name.contains("LayerNorm.")
            return ParamGroupEntry(name: p.name, tensor: p.tensor, weightDecay: noDecay ? 0 : weightDecay)
        }, lr: lr)
    }

    /// Turns dropout on or off in the encoder.
    public func train(_ on: Bool) { encoder.model.train(on) }
}

/// Errors of a training run.
public enum TrainingError: Error, CustomStringConvertible {
    case invalid(String)
    case nonFinite(step: Int, what: String, lastGood: String?)
    case file(String, String)

    public var description: String {
        switch self {
        case let .invalid(s): return s
        case let .nonFinite(step, what, lastGood):
            return "training stopped at step \(step): the \(what) is not finite (NaN or infinite); try a lower learning rate. "
                + (lastGood.map { "The last good checkpoint is kept in \($0)." } ?? "No checkpoint had been written yet.")
        case let .file(path, reason): return "\(path): \(reason)"
        }
    }
}
