// BertConfig: the HF config.json of a BERT encoder, with transformers' BertConfig defaults and a JSON writer.
import Foundation

/// The fields of an HF `config.json` the BERT encoder needs. Keys absent from the file take
/// transformers' `BertConfig` defaults; keys this struct does not model are kept in `extra` and
/// written back by `encode()`, so a saved folder keeps e.g. `pad_token_id`, `position_embedding_type`.
public struct BertConfig: Equatable, Sendable {
    public var hiddenSize = 768
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var intermediateSize = 3072
    public var vocabSize = 30522
    public var maxPositionEmbeddings = 512
    public var typeVocabSize = 2
    public var layerNormEps = 1e-12
    public var hiddenAct = "gelu"
    public var hiddenDropoutProb = 0.1
    public var attentionProbsDropoutProb = 0.1
    public var modelType = "bert"
    public var architectures: [String]? = nil
    /// Every other key of the source file, written back unchanged.
    public var extra: [String: JSONValue] = [:]

    /// Head size = hidden / heads.
    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// All defaults (bert-base-uncased shape).
    public init() {}

    /// Float parameters of the encoder this config describes (embeddings, layers; no pooler), or nil when the
    /// count overflows. A loader compares it with the weights file before allocating anything, so a crafted
    /// config cannot ask for terabytes.
    public var parameterCount: Int? {
        let h = hiddenSize, i = intermediateSize
        func mul(_ a: Int?, _ b: Int) -> Int? {
            guard let a else { return nil }
            let (p, o) = a.multipliedReportingOverflow(by: b); return o ? nil : p
        }
        func add(_ xs: Int?...) -> Int? {
            var s = 0
            for x in xs { guard let x else { return nil }; let (t, o) = s.addingReportingOverflow(x); if o { return nil }; s = t }
            return s
        }
        let embeddings = add(mul(vocabSize, h), mul(maxPositionEmbeddings, h), mul(typeVocabSize, h), mul(2, h))
        // Per layer: Q, K, V, attention output (h x h + h each), two LayerNorms, the feed-forward pair.
        let layer = add(mul(add(mul(h, h), h), 4), mul(h, 4), mul(h, i), i, mul(i, h), h)
        return add(embeddings, mul(layer, numHiddenLayers))
    }

    /// Reads `config.json` at `path`.
    public static func load(_ path: String) throws -> BertConfig {
        try BertConfig(object: JSONFile.readObject(path), file: path)
    }

    /// Parses config JSON bytes; `file` names the source in errors.
    public init(data: Data, file: String) throws {
        try self.init(object: JSONFile.parseObject(data, file: file), file: file)
    }

    static let modelledKeys: Set<String> = [
        "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
        "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act", "hidden_dropout_prob",
        "attention_probs_dropout_prob", "model_type", "architectures",
    ]

    init(object o: [String: JSONValue], file: String) throws {
        let f = JSONFields(object: o, file: file)
        hiddenSize = try f.positiveInt("hidden_size", default: 768)
        numHiddenLayers = try f.positiveInt("num_hidden_layers", default: 12)
        numAttentionHeads = try f.positiveInt("num_attention_heads", default: 12)
        intermediateSize = try f.positiveInt("intermediate_size", default: 3072)
        vocabSize = try f.positiveInt("vocab_size", default: 30522)
        maxPositionEmbeddings = try f.positiveInt("max_position_embeddings", default: 512)
        typeVocabSize = try f.positiveInt("type_vocab_size", default: 2)
        layerNormEps = try f.double("layer_norm_eps", default: 1e-12)
        hiddenAct = try f.string("hidden_act", default: "gelu")
        hiddenDropoutProb = try f.double("hidden_dropout_prob", default: 0.1)
        attentionProbsDropoutProb = try f.double("attention_probs_dropout_prob", default: 0.1)
        modelType = try f.string("model_type", default: "bert")
        architectures = try f.stringList("architectures")
        extra = o.filter { !BertConfig.modelledKeys.contains($0.key) }
        if hiddenSize % numAttentionHeads != 0 {
            throw FormatError(.badValue, file: file, field: "num_attention_heads",
                              "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        if !(layerNormEps > 0) {
            throw FormatError(.badValue, file: file, field: "layer_norm_eps", "must be positive, found \(layerNormEps)")
        }
        for (key, p) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb)]
            where !(p >= 0 && p < 1) {
            throw FormatError(.badValue, file: file, field: key, "must be in [0, 1), found \(p)")
        }
    }

    /// The config as a JSON object (extra keys included; `model_type` always present).
    public var jsonObject: [String: JSONValue] {
        var o = extra
        o["hidden_size"] = .int(Int64(hiddenSize))
        o["num_hidden_layers"] = .int(Int64(numHiddenLayers))
        o["num_attention_heads"] = .int(Int64(numAttentionHeads))
        o["intermediate_size"] = .int(Int64(intermediateSize))
        o["vocab_size"] = .int(Int64(vocabSize))
        o["max_position_embeddings"] = .int(Int64(maxPositionEmbeddings))
        o["type_vocab_size"] = .int(Int64(typeVocabSize))
        o["layer_norm_eps"] = .double(layerNormEps)
        o["hidden_act"] = .string(hiddenAct)
        o["hidden_dropout_prob"] = .double(hiddenDropoutProb)
        o["attention_probs_dropout_prob"] = .double(attentionProbsDropoutProb)
        o["model_type"] = .string(modelType)
        if let a = architectures { o["architectures"] = .array(a.map { .string($0) }) }
        return o
    }

    /// Pretty-printed JSON (2-space indent, sorted keys, trailing newline) that transformers' AutoConfig loads.
    public func encode() -> Data {
        Data((JSONValue.object(jsonObject).serialized(indent: 2) + "\n").utf8)
    }

    /// Writes `config.json` atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(encode(), to: path)
    }
}
