// PoolingConfig: sentence-transformers' 1_Pooling/config.json (which token pooling, output width).
import Foundation

/// One pooling strategy of sentence-transformers' `Pooling` module.
public enum PoolingMode: String, CaseIterable, Sendable {
    case cls, max, mean, meanSqrtLen, weightedMean, lastToken
}

/// The pooling module configuration. Several modes may be on: sentence-transformers then concatenates
/// their outputs in the order of `modes` (cls, max, mean, mean_sqrt_len, weightedmean, lasttoken).
public struct PoolingConfig: Equatable, Sendable {
    public var wordEmbeddingDimension: Int
    public var clsToken = false
    public var meanTokens = false
    public var maxTokens = false
    public var meanSqrtLenTokens = false
    public var weightedMeanTokens = false
    public var lastToken = false
    /// Whether prompt tokens take part in pooling (sentence-transformers >= 2.4; default true).
    public var includePrompt = true

    /// A config with exactly one mode on (default: mean, the sentence-transformers default).
    public init(wordEmbeddingDimension: Int, mode: PoolingMode = .mean) {
        self.wordEmbeddingDimension = wordEmbeddingDimension
        switch mode {
        case .cls: clsToken = true
        case .max: maxTokens = true
        case .mean: meanTokens = true
        case .meanSqrtLen: meanSqrtLenTokens = true
        case .weightedMean: weightedMeanTokens = true
        case .lastToken: lastToken = true
        }
    }

    /// The modes that are on, in sentence-transformers' concatenation order.
    public var modes: [PoolingMode] {
        var m: [PoolingMode] = []
        if clsToken { m.append(.cls) }
        if maxTokens { m.append(.max) }
        if meanTokens { m.append(.mean) }
        if meanSqrtLenTokens { m.append(.meanSqrtLen) }
        if weightedMeanTokens { m.append(.weightedMean) }
        if lastToken { m.append(.lastToken) }
        return m
    }

    /// Width of the pooled vector (word dimension x number of modes).
    public var outputDimension: Int { wordEmbeddingDimension * modes.count }

    /// Reads `1_Pooling/config.json`.
    public static func load(_ path: String) throws -> PoolingConfig {
        try PoolingConfig(object: JSONFile.readObject(path), file: path)
    }

    /// Parses pooling config JSON bytes; `file` names the source in errors.
    public init(data: Data, file: String) throws {
        try self.init(object: JSONFile.parseObject(data, file: file), file: file)
    }

    init(object o: [String: JSONValue], file: String) throws {
        let f = JSONFields(object: o, file: file)
        guard o["word_embedding_dimension"] != nil else {
            throw FormatError(.notAnObject, file: file, field: "word_embedding_dimension", "missing")
        }
        wordEmbeddingDimension = try f.positiveInt("word_embedding_dimension", default: 0)
        clsToken = try f.bool("pooling_mode_cls_token", default: false)
        meanTokens = try f.bool("pooling_mode_mean_tokens", default: false)
        maxTokens = try f.bool("pooling_mode_max_tokens", default: false)
        meanSqrtLenTokens = try f.bool("pooling_mode_mean_sqrt_len_tokens", default: false)
        weightedMeanTokens = try f.bool("pooling_mode_weightedmean_tokens", default: false)
        lastToken = try f.bool("pooling_mode_lasttoken", default: false)
        includePrompt = try f.bool("include_prompt", default: true)
        if modes.isEmpty {
            throw FormatError(.badValue, file: file, field: "pooling_mode_*", "no pooling mode is enabled")
        }
    }

    /// JSON in sentence-transformers' key order. The two newer modes and `include_prompt` are written only
    /// when they differ from their defaults, so older sentence-transformers versions load the file too.
    public func encode() -> Data {
        var pairs: [(String, JSONValue)] = [
            ("word_embedding_dimension", .int(Int64(wordEmbeddingDimension))),
            ("pooling_mode_cls_token", .bool(clsToken)),
            ("pooling_mode_mean_tokens", .bool(meanTokens)),
            ("pooling_mode_max_tokens", .bool(maxTokens)),
            ("pooling_mode_mean_sqrt_len_tokens", .bool(meanSqrtLenTokens)),
        ]
        if weightedMeanTokens { pairs.append(("pooling_mode_weightedmean_tokens", .bool(true))) }
        if lastToken { pairs.append(("pooling_mode_lasttoken", .bool(true))) }
        if !includePrompt { pairs.append(("include_prompt", .bool(false))) }
        return Data(JSONValue.serializedOrdered(pairs).utf8)
    }
}
