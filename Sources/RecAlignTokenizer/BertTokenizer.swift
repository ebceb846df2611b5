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
        var names = [String](repeating: "", count: Int(maxID) + 1)
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
        var ids: [Int32] = []
        appendTokenIDs(text, to: &ids)
        return ids.map { idToToken[Int($0)] }
    }

    /// Ids of `text` without special tokens and without truncation.
    public func tokenIDs(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        appendTokenIDs(text, to: &ids)
        return ids
    }

    /// Number of tokens of `text`, without special tokens.
    public func countTokens(_ text: String) -> Int {
        var ids: [Int32] = []
        appendTokenIDs(text, to: &ids)
        return ids.count
    }

    /// Appends the ids of `text` (no special tokens) to `out`.
    public func appendTokenIDs(_ text: String, to out: inout [Int32]) {
        var raw: [UInt32] = []
        raw.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars { raw.append(s.value) }
        var norm: [UInt32] = []
        norm.reserveCapacity(raw.count + 16)
        raw.withUnsafeBufferPointer { rb in
            var segmentStart = 0
            if !splitTokens.isEmpty {
                var i = 0
                while i < rb.count {
                    if splitFirstScalars.contains(rb[i]), let (length, id) = addedToken(in: rb, at: i) {
                        processSegment(rb, segmentStart..<i, &norm, &out)
                        out.append(id)
                        i += length
                        segmentStart = i
                    } else {
                        i += 1
                    }
                }
            }
            processSegment(rb, segmentStart..<rb.count, &norm, &out)
        }
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

    /// Normalizes `raw[range]`, splits it into words and appends their WordPiece ids.
    private func processSegment(_ raw: UnsafeBufferPointer<UInt32>, _ range: Range<Int>,
                                _ norm: inout [UInt32], _ out: inout [Int32]) {
        guard !range.isEmpty else { return }
        norm.removeAll(keepingCapacity: true)
        normalizer.normalize(raw, range, into: &norm)
        let classes = CharacterClasses.shared
        norm.withUnsafeBufferPointer { nb in
            var wordStart = -1
            for j in 0..<nb.count {
                let c = nb[j]
                let boundary: Bool
                let isolated: Bool
                if c < 0x80 {
                    boundary = c <= 0x20 && (c == 0x20 || (c >= 0x09 && c <= 0x0D))
                    isolated = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)
                } else {
                    let f = classes.flags(c)
                    boundary = f.contains(.splitWhitespace)
                    isolated = f.contains(.punctuation)
                }
                if boundary || isolated {
                    if wordStart >= 0 { wordPiece(nb, wordStart, j, &out); wordStart = -1 }
                    if isolated { wordPiece(nb, j, j + 1, &out) }
                } else if wordStart < 0 {
                    wordStart = j
                }
            }
            if wordStart >= 0 { wordPiece(nb, wordStart, nb.count, &out) }
        }
    }

    /// Greedy longest-match-first WordPiece of `word[start..<end]`; one unknown token when any part fails
    /// or the word has more than `maxInputCharsPerWord` scalars.
    @inline(__always)
    private func wordPiece(_ word: UnsafeBufferPointer<UInt32>, _ start: Int, _ end: Int, _ out: inout [Int32]) {
        if end - start > maxCharsPerWord { out.append(unkID); return }
        let mark = out.count
        var pos = start
        var root = VocabTrie.wordRoot
        while pos < end {
            guard let m = trie.longestMatch(word, from: pos, to: end, root: root) else {
                out.removeSubrange(mark...)
                out.append(unkID)
                return
            }
            out.append(m.id)
            pos = m.end
            root = trie.continuationRoot
        }
    }
}
