// PrefixTuning: per-layer trainable key / value prefixes that every token attends to (P-tuning v2).
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// One layer's prefix keys and values, each [P, C].
public final class PrefixPair: Module {
    public let key: Tensor
    public let value: Tensor
    public init(key: Tensor, value: Tensor) { self.key = key; self.value = value }
}

/// P extra keys and values per layer (`prefix.i.key`, `prefix.i.value`, each [P, C]) prepended to the
/// layer's own; the text's tokens are unchanged.
public final class Prefix: Module, InputAdapter {
    public let prefix: [PrefixPair]
    public init(_ pairs: [PrefixPair]) { prefix = pairs }

    public var extraKeyCount: Int { prefix.first?.key.shape[0] ?? 0 }
    public func extraKeysValues(layer i: Int) -> (key: Tensor, value: Tensor)? { (prefix[i].key, prefix[i].value) }
}

/// Prefix tuning without reparametrisation (P-tuning v2): the prefixes train, the encoder is frozen.
/// `fromVocabulary`: initialised as the key / value projections of random vocabulary rows; else Normal(0, 0.02).
public struct PrefixTuning: TuningMethod {
    public static let name = "prefix"
    public static let defaultLearningRate: Float = 3e-3
    public let length: Int
    public let fromVocabulary: Bool

    public init(_ o: MethodOptions) throws { self.init(length: o.promptLength, fromVocabulary: o.prefixFromVocabulary) }
    public init(length: Int, fromVocabulary: Bool) { self.length = length; self.fromVocabulary = fromVocabulary }
    public var description: String { "prefix(\(length)\(fromVocabulary ? ", vocab" : ", normal 0.02"))" }

    public func apply(to encoder: SentenceEncoder, rng: inout SeededRNG) throws -> [(name: String, tensor: Tensor)] {
        guard length >= 1 else { throw TuningMethodError("prefix: length \(length) must be >= 1") }
        let model = encoder.model, c = model.config.hiddenSize
        let table = model.embeddings.word_embeddings.weight
        let pairs = model.encoder.layer.map { layer -> PrefixPair in
            guard fromVocabulary else {
                return PrefixPair(key: .normal([length, c], std: 0.02, rng: &rng, requiresGrad: true),
                                  value: .normal([length, c], std: 0.02, rng: &rng, requiresGrad: true))
            }
            let x = Autograd.noGrad { embedding(table, ids: randomVocabularyRows(length, of: table, rng: &rng)) }
            let sa = layer.attention.selfAttention
            let k = Autograd.noGrad { sa.key(x) }.copy(), v = Autograd.noGrad { sa.value(x) }.copy()
            k.enableGrad(); v.enableGrad()
            return PrefixPair(key: k, value: v)
        }
        return encoder.attach(Prefix(pairs))
    }

    public func save(_ encoder: SentenceEncoder, to dir: String) throws {
        guard let adapter = encoder.inputAdapter as? Prefix else { throw TuningMethodError("the encoder has no prefixes to save") }
        try saveInputAdapter(adapter, method: Self.name, of: encoder, virtualTokens: adapter.extraKeyCount, to: dir)
    }

    public static func load(_ folder: AdapterFolder, for encoder: SentenceEncoder) throws -> () -> Void {
        let config = try folder.decode(InputAdapterConfig.self)
        let tensors = try folder.tensors(AdapterFolder.recAlignWeights)
        let cfg = encoder.model.config
        var pairs: [PrefixPair] = []
        for i in 0..<cfg.numHiddenLayers {
            let k = try tensors.matrix("prefix.\(i).key", rows: config.num_virtual_tokens, cols: cfg.hiddenSize)
            pairs.append(PrefixPair(key: k, value: try tensors.matrix("prefix.\(i).value", rows: k.shape[0], cols: cfg.hiddenSize)))
        }
        try tensors.finish("a prefix adapter for a \(cfg.numHiddenLayers)-layer model")
        let adapter = Prefix(pairs)
        return { encoder.inputAdapter = adapter }
    }
}

extension TuningMethod where Self == PrefixTuning {
    public static func prefix(length: Int, fromVocabulary: Bool) -> PrefixTuning { PrefixTuning(length: length, fromVocabulary: fromVocabulary) }
}
