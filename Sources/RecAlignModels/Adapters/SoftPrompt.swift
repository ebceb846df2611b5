// SoftPrompt: prompt tuning (Lester et al.): trainable virtual-token vectors inserted after [CLS].
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// P trainable vectors inserted right after [CLS] (`soft_prompt` [P, C]); positions run over all T + P tokens.
/// By default they attend and are attended to but are not pooled, so an untrained prompt starts near the
/// frozen embedding (pooling P shared vectors into every text first blurs all texts together).
public final class SoftPrompt: Module, InputAdapter {
    public let soft_prompt: Tensor
    public let poolsInsertedTokens: Bool

    public init(_ prompt: Tensor, pooled: Bool) { soft_prompt = prompt; poolsInsertedTokens = pooled }

    public var insertedTokens: Int { soft_prompt.shape[0] }

    /// words [B, T, C] -> [B, T + P, C]: [CLS], the prompt, the rest.
    public func insert(into words: Tensor) -> Tensor {
        let b = words.shape[0], t = words.shape[1]
        return concat([narrow(words, axis: 1, start: 0, length: 1), repeatBatch(soft_prompt, b),
                       narrow(words, axis: 1, start: 1, length: t - 1)], axis: 1)
    }
}

/// Prompt tuning: the soft prompt trains, the encoder is frozen. Initialised from the word embeddings of
/// `initText`'s tokens (repeated / cut to `length`) or, when nil, of random vocabulary rows.
public struct SoftPromptTuning: TuningMethod {
    public static let name = "prompt"
    public static let defaultLearningRate: Float = 3e-3
    public let length: Int
    public let initText: String?
    public let poolVirtualTokens: Bool

    public init(_ o: MethodOptions) throws { self.init(length: o.promptLength, initText: o.promptInit, poolVirtualTokens: o.poolVirtualTokens) }
    public init(length: Int, initText: String?, poolVirtualTokens: Bool = false) {
        self.length = length; self.initText = initText; self.poolVirtualTokens = poolVirtualTokens
    }
    public var description: String { "prompt(\(length)\(initText.map { ", init \"\($0)\"" } ?? ", random vocab"))" }

    public func apply(to encoder: SentenceEncoder, rng: inout SeededRNG) throws -> [(name: String, tensor: Tensor)] {
        guard length >= 1 && length + 2 < encoder.maxLength else {
            throw TuningMethodError("prompt: length \(length) must be in 1...\(encoder.maxLength - 3)")
        }
        let table = encoder.model.embeddings.word_embeddings.weight, c = table.shape[1]
        var rows: [Int32]
        if let initText, !initText.isEmpty {
            let ids = encoder.tokenizer.tokenIDs(initText)
            guard !ids.isEmpty else { throw TuningMethodError("prompt init text '\(initText)' has no tokens") }
            rows = (0..<length).map { ids[$0 % ids.count] }
        } else {
            rows = randomVocabularyRows(length, of: table, rng: &rng)
        }
        let p = Tensor(zeros: [length, c], requiresGrad: true)
        for (i, r) in rows.enumerated() { (p.data + i * c).update(from: table.data + Int(r) * c, count: c) }
        return encoder.attach(SoftPrompt(p, pooled: poolVirtualTokens))
    }

    public func save(_ encoder: SentenceEncoder, to dir: String) throws {
        guard let prompt = encoder.inputAdapter as? SoftPrompt else { throw TuningMethodError("the encoder has no soft prompt to save") }
        try saveInputAdapter(prompt, method: Self.name, of: encoder, virtualTokens: prompt.insertedTokens,
                             pooled: prompt.poolsInsertedTokens, to: dir)
    }

    public static func load(_ folder: AdapterFolder, for encoder: SentenceEncoder) throws -> () -> Void {
        let config = try folder.decode(InputAdapterConfig.self)
        let tensors = try folder.tensors(AdapterFolder.recAlignWeights)
        let c = encoder.model.config.hiddenSize, positions = encoder.model.config.maxPositionEmbeddings
        let prompt = try tensors.matrix("soft_prompt", rows: config.num_virtual_tokens, cols: c)
        // The virtual tokens take positions of the model's table: a text needs at least [CLS] and [SEP] beside them.
        guard prompt.shape[0] >= 1, prompt.shape[0] + 2 <= positions else {
            throw FormatError(.badValue, file: tensors.file.path, field: "soft_prompt", "tensor 'soft_prompt' has \(prompt.shape[0]) virtual "
                              + "tokens; the base model has \(positions) positions (at most \(positions - 2))")
        }
        try tensors.finish("a prompt adapter")
        // Adapters written before `pool_virtual_tokens` existed pooled the virtual tokens.
        let adapter = SoftPrompt(prompt, pooled: config.pool_virtual_tokens ?? true)
        return { encoder.inputAdapter = adapter }
    }
}

extension TuningMethod where Self == SoftPromptTuning {
    public static func prompt(length: Int, initText: String?, poolVirtualTokens: Bool = false) -> SoftPromptTuning {
        SoftPromptTuning(length: length, initText: initText, poolVirtualTokens: poolVirtualTokens)
    }
}

/// `n` random rows among the ordinary tokens of the word-embedding table (BERT vocabularies put [unused] and
/// special tokens first).
func randomVocabularyRows(_ n: Int, of table: Tensor, rng: inout SeededRNG) -> [Int32] {
    let lo = min(1000, table.shape[0] - 1)
    return (0..<n).map { _ in Int32(lo + Int(rng.next() % UInt64(table.shape[0] - lo))) }
}
