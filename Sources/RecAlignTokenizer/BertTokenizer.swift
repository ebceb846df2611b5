// BertTokenizer: Hugging Face BertTokenizerFast behaviour (added tokens, BertNormalizer, BertPreTokenizer, WordPiece).

import Foundation

/// A BERT WordPiece tokenizer that reproduces Hugging Face `tokenizers` (BertTokenizerFast) token for token.
///
/// Immutable after construction and safe to share across threads.
public final class BertTokenizer: @unchecked Sendable {
    /// Normalizer options in effect.
    public let normalizerOptions: BertNormalizerOptions
    /// WordPiece options in effect.
    public let wordPieceOptions: WordPieceOptions
    /// Id of the sequence-start token (`[CLS]`).
    public let clsID: Int32
    /// Id of the sequence-end token (`[SEP]`).
    public let sepID: Int32
    /// Id used for padding (`[PAD]`).
    public let padID: Int32
    /// Id of the unknown token (`[UNK]`).
    public let unkID: Int32
    /// The file the vocabulary came from (empty for a hand-built tokenizer).
    public let source: String
    /// The largest id the tokenizer can emit (vocabulary, added and special tokens, padding): a model's
    /// embedding table must have more rows than this (`SentenceEncoder` checks it at load).
    public let maxTokenID: Int32

    private let normalizer: BertNormalizer
    private let trie: VocabTrie
    private let idToToken: [String]
    private let tokenToID: [String: Int32]
    private let maxCharsPerWord: Int
    /// Added tokens matched in the raw text, longest first.
    private let splitTokens: [(scalars: [UInt32], id: Int32)]
    private let splitFirstScalars: [UInt32]

    /// Loads from a model folder: `tokenizer.json` if present, else `vocab.txt` (+ `tokenizer_config.json`,
    /// `special_tokens_map.json` when present). Throws `TokenizerError.missingVocabulary` naming the folder
    /// when neither exists.
    public convenience init(folder: URL) throws {
        let fm = FileManager.default
        let json = folder.appendingPathComponent("tokenizer.json")
        let vocab = folder.appendingPathComponent("vocab.txt")
        if fm.fileExists(atPath: json.path) {
            try self.init(spec: TokenizerFiles.loadTokenizerJSON(json))
        } else if fm.fileExists(atPath: vocab.path) {
            try self.init(vocabFile: vocab)
        } else {
            throw TokenizerError.missingVocabulary(folder: folder.path)
        }
    }

    /// Loads a `tokenizer.json` file.
    public convenience init(tokenizerJSON url: URL) throws {
        try self.init(spec: TokenizerFiles.loadTokenizerJSON(url))
    }

    /// Loads a `vocab.txt` file; options come from `tokenizer_config.json` (and special-token names from
    /// `special_tokens_map.json`) next to it when present, otherwise BERT uncased defaults.
    public convenience init(vocabFile url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let fm = FileManager.default
        let config = folder.appendingPathComponent("tokenizer_config.json")
        let map = folder.appendingPathComponent("special_tokens_map.json")
        try self.init(spec: TokenizerFiles.loadVocabTxt(
            url, config: fm.fileExists(atPath: config.path) ? config : nil,
            specialTokensMap: fm.fileExists(atPath: map.path) ? map : nil))
    }

    /// Builds a tokenizer from an in-memory vocabulary (id = index), e.g. for tests. The special tokens
    /// named in `special` and `wordPiece.unkToken` must be in the vocabulary; they are also split out of raw
    /// text, as Hugging Face does with special tokens.
    public convenience init(vocabulary: [String], normalizer: BertNormalizerOptions = BertNormalizerOptions(),
                            wordPiece: WordPieceOptions = WordPieceOptions(),
                            special: SpecialTokenNames = SpecialTokenNames()) throws {
        var lookup: [String: Int32] = [:]
        for (i, t) in vocabulary.enumerated() { lookup[t] = Int32(i) }
        func idOf(_ t: String, _ field: String) throws -> Int32 {
            guard let id = lookup[t] else {
                throw TokenizerError.malformed(file: "(in-memory vocabulary)", field: field,
                                               problem: "token \"\(t)\" is not in the vocabulary")
            }
            return id
        }
        let unk = try idOf(wordPiece.unkToken, "unkToken")
        let cls = try idOf(special.cls, "cls"), sep = try idOf(special.sep, "sep")
        var split: [(String, Int32)] = [(wordPiece.unkToken, unk), (special.cls, cls), (special.sep, sep)]
        if let p = lookup[special.pad] { split.append((special.pad, p)) }
        if let m = special.mask, let id = lookup[m] { split.append((m, id)) }
        try self.init(spec: TokenizerSpec(
            vocab: vocabulary.enumerated().map { ($1, Int32($0)) }, normalizer: normalizer, wordPiece: wordPiece,
            clsID: cls, sepID: sep, padID: lookup[special.pad] ?? 0, splitTokens: split, source: ""))
    }

    init(spec: TokenizerSpec) throws {
        normalizerOptions = spec.normalizer
        wordPieceOptions = spec.wordPiece
        normalizer = BertNormalizer(options: spec.normalizer)
        clsID = spec.clsID
        sepID = spec.sepID
        padID = spec.padID
        source = spec.source
        maxCharsPerWord = spec.wordPiece.maxInputCharsPerWord

        var lookup: [String: Int32] = [:]
        var maxID: Int32 = -1
        for (t, id) in spec.vocab { lookup[t] = id; maxID = max(maxID, id) }
        for (t, id) in spec.extraTokens where lookup[t] == nil { lookup[t] = id; maxID = max(maxID, id) }
        // Ids index a table (here and in the model): bounded by the number of entries, so that a crafted id
        // cannot make either allocate gigabytes. BERT vocabularies are dense (id = line of vocab.txt).
        let entries = spec.vocab.count + spec.extraTokens.count + spec.splitTokens.count
        let emitted = spec.splitTokens.map(\.1) + [spec.clsID, spec.sepID, spec.padID]
        let limit = 2 * entries + 1024
        for id in emitted + [maxID] where id < 0 || Int(id) >= limit {
            throw TokenizerError.malformed(file: spec.source, field: "ids",
                                           problem: "token id \(id) is outside 0..<\(limit) for a vocabulary of \(entries) entries")
        }
        maxTokenID = emitted.reduce(maxID, max)
        // Every id the tokenizer can emit has a name (an added token may carry an id of its own).
        var names = [String](repeating: "", count: Int(maxTokenID) + 1)
        for (t, id) in spec.splitTokens { names[Int(id)] = t }
        for (t, id) in spec.extraTokens { names[Int(id)] = t }
        for (t, id) in spec.vocab { names[Int(id)] = t }
        idToToken = names
        tokenToID = lookup
        guard let unk = spec.vocab.last(where: { $0.0 == spec.wordPiece.unkToken })?.1 else {
            throw TokenizerError.malformed(file: spec.source, field: "unk_token",
                                           problem: "token \"\(spec.wordPiece.unkToken)\" is not in the vocabulary")
        }
        unkID = unk
        trie = VocabTrie(tokens: spec.vocab.map { (Array($0.0.unicodeScalars.map(\.value)), $0.1) },
                         continuingPrefix: Array(spec.wordPiece.continuingSubwordPrefix.unicodeScalars.map(\.value)))
        let split = spec.splitTokens.map { (scalars: Array($0.0.unicodeScalars.map(\.value)), id: $0.1) }
            .filter { !$0.scalars.isEmpty }
            .sorted { $0.scalars.count > $1.scalars.count }
        splitTokens = split
        splitFirstScalars = Array(Set(split.map { $0.scalars[0] })).sorted()
    }

    /// Number of ids (vocabulary plus added tokens).
    public var vocabularySize: Int { idToToken.count }

    /// Id of a token string, or nil.
    public func id(of token: String) -> Int32? { tokenToID[token] }

    /// Token string of an id, or nil when out of range.
    public func token(of id: Int32) -> String? {
        id >= 0 && Int(id) < idToToken.count ? idToToken[Int(id)] : nil
    }

    // MARK: - Tokenizing

    /// WordPiece tokens of `text`, without special tokens (as `tokenizer.tokenize` in transformers).
    public func tokenize(_ text: String) -> [String] {
        tokenIDs(text).map { idToToken[Int($0)] }
    }

    /// Ids of `text` without special tokens and without truncation.
    public func tokenIDs(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        run(text, &ids)
        return ids
    }

    /// Number of tokens of `text`, without special tokens (no allocation beyond scratch buffers).
    public func countTokens(_ text: String) -> Int {
        var counter = TokenCounter()
        run(text, &counter)
        return counter.count
    }

    /// Appends the ids of `text` (no special tokens) to `out`.
    public func appendTokenIDs(_ text: String, to out: inout [Int32]) {
        run(text, &out)
    }

    /// The whole pipeline: UTF-8 -> scalars, added-token split, normalize, pre-tokenize, WordPiece.
    @inline(__always)
    private func run<Sink: TokenSink>(_ text: String, _ sink: inout Sink) {
        var text = text
        let byteCount = text.utf8.count
        guard byteCount > 0 else { return }
        let expansion = CharacterClasses.shared.maxExpansion
        text.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: byteCount) { rawStorage in
                let raw = rawStorage.baseAddress!
                let n = BertTokenizer.decodeUTF8(utf8, into: raw)
                let rb = UnsafeBufferPointer(start: raw, count: n)
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: n * expansion) { normStorage in
                    let norm = normStorage.baseAddress!
                    var segmentStart = 0
                    if !splitTokens.isEmpty {
                        var i = 0
                        while i < n {
                            if splitFirstScalars.contains(rb[i]), let (length, id) = addedToken(in: rb, at: i) {
                                processSegment(rb, segmentStart..<i, norm, &sink)
                                sink.append(id)
                                i += length
                                segmentStart = i
                            } else {
                                i += 1
                            }
                        }
                    }
                    processSegment(rb, segmentStart..<n, norm, &sink)
                }
            }
        }
    }

    /// Decodes valid UTF-8 (Swift strings always are) into scalars; returns the scalar count.
    @inline(__always)
    private static func decodeUTF8(_ u: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt32>) -> Int {
        var i = 0, k = 0
        let n = u.count
        while i < n {
            let b = UInt32(u[i])
            if b < 0x80 {
                out[k] = b
                i += 1
            } else if b < 0xE0 {
                out[k] = (b & 0x1F) << 6 | UInt32(u[i + 1] & 0x3F)
                i += 2
            } else if b < 0xF0 {
                out[k] = (b & 0x0F) << 12 | UInt32(u[i + 1] & 0x3F) << 6 | UInt32(u[i + 2] & 0x3F)
                i += 3
            } else {
                out[k] = (b & 0x07) << 18 | UInt32(u[i + 1] & 0x3F) << 12 | UInt32(u[i + 2] & 0x3F) << 6
                    | UInt32(u[i + 3] & 0x3F)
                i += 4
            }
            k += 1
        }
        return k
    }

    /// Longest added token starting at `i` (the leftmost-longest rule of Hugging Face's matcher).
    private func addedToken(in raw: UnsafeBufferPointer<UInt32>, at i: Int) -> (Int, Int32)? {
        for t in splitTokens where t.scalars.count <= raw.count - i {
            var k = 0
            while k < t.scalars.count && raw[i + k] == t.scalars[k] { k += 1 }
            if k == t.scalars.count { return (k, t.id) }
        }
        return nil
    }

    /// Normalizes `raw[range]` into `norm`, splits it into words and emits their WordPiece ids.
    @inline(__always)
    private func processSegment<Sink: TokenSink>(_ raw: UnsafeBufferPointer<UInt32>, _ range: Range<Int>,
                                                 _ norm: UnsafeMutablePointer<UInt32>, _ sink: inout Sink) {
        guard !range.isEmpty else { return }
        var writer = ScalarWriter(base: norm)
        normalizer.normalize(raw, range, into: &writer)
        let classes = CharacterClasses.shared
        var wordStart = -1
        for j in 0..<writer.count {
            let c = norm[j]
            let boundary: Bool
            let isolated: Bool
            if c < 0x80 {
                boundary = c == 0x20 || (c >= 0x09 && c <= 0x0D)
                isolated = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)
            } else {
                let f = classes.flags(c)
                boundary = f.contains(.splitWhitespace)
                isolated = f.contains(.punctuation)
            }
            if boundary || isolated {
                if wordStart >= 0 { wordPiece(norm, wordStart, j, &sink); wordStart = -1 }
                if isolated { wordPiece(norm, j, j + 1, &sink) }
            } else if wordStart < 0 {
                wordStart = j
            }
        }
        if wordStart >= 0 { wordPiece(norm, wordStart, writer.count, &sink) }
    }

    /// Greedy longest-match-first WordPiece of `word[start..<end]`; one unknown token when any part fails
    /// or the word has more than `maxInputCharsPerWord` scalars.
    @inline(__always)
    private func wordPiece<Sink: TokenSink>(_ word: UnsafePointer<UInt32>, _ start: Int, _ end: Int,
                                            _ sink: inout Sink) {
        if end - start > maxCharsPerWord { sink.append(unkID); return }
        let mark = sink.count
        var pos = start
        var root = VocabTrie.wordRoot
        while pos < end {
            guard let m = trie.longestMatch(word, from: pos, to: end, root: root) else {
                sink.truncate(to: mark)
                sink.append(unkID)
                return
            }
            sink.append(m.id)
            pos = m.end
            root = trie.continuationRoot
        }
    }
}

/// Receives token ids from the tokenizer pipeline.
protocol TokenSink {
    var count: Int { get }
    mutating func append(_ id: Int32)
    /// Drops ids emitted after the first `n` (a word that turned out to be unknown).
    mutating func truncate(to n: Int)
}

extension Array: TokenSink where Element == Int32 {
    mutating func truncate(to n: Int) { removeSubrange(n...) }
}

/// Counts ids without storing them.
struct TokenCounter: TokenSink {
    var count = 0
    mutating func append(_ id: Int32) { count += 1 }
    mutating func truncate(to n: Int) { count = n }
}
