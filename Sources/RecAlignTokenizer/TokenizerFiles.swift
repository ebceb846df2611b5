// Reads a BERT tokenizer description from tokenizer.json, or vocab.txt plus tokenizer_config.json.

import Foundation

/// WordPiece model options, named as in `tokenizer.json`.
public struct WordPieceOptions: Sendable, Equatable {
    /// Token emitted for a word that cannot be split, or that is too long.
    public var unkToken: String
    /// Prefix marking a piece that continues a word.
    public var continuingSubwordPrefix: String
    /// Words with more Unicode scalars than this become the unknown token.
    public var maxInputCharsPerWord: Int

    /// BERT defaults: `[UNK]`, `##`, 100.
    public init(unkToken: String = "[UNK]", continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100) {
        self.unkToken = unkToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }
}

/// Names of the special tokens used to frame and pad sequences.
public struct SpecialTokenNames: Sendable, Equatable {
    /// Sequence start.
    public var cls: String
    /// Sequence end.
    public var sep: String
    /// Padding (id 0 when absent from the vocabulary).
    public var pad: String
    /// Masking token, if any (only used to split it out of raw text).
    public var mask: String?

    /// BERT defaults: `[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`.
    public init(cls: String = "[CLS]", sep: String = "[SEP]", pad: String = "[PAD]", mask: String? = "[MASK]") {
        self.cls = cls
        self.sep = sep
        self.pad = pad
        self.mask = mask
    }
}

/// Everything needed to build a `BertTokenizer`, as read from files (or built by hand).
struct TokenizerSpec {
    var vocab: [(String, Int32)]            // model vocabulary, in file order
    var extraTokens: [(String, Int32)] = [] // added tokens outside the model vocabulary
    var normalizer: BertNormalizerOptions
    var wordPiece: WordPieceOptions
    var clsID: Int32
    var sepID: Int32
    var padID: Int32
    /// Tokens matched verbatim in the raw text before normalization (Hugging Face "added tokens").
    var splitTokens: [(String, Int32)]
    var source: String
}

enum TokenizerFiles {
    /// Reads `tokenizer.json` (a BertNormalizer + BertPreTokenizer + WordPiece pipeline).
    static func loadTokenizerJSON(_ url: URL) throws -> TokenizerSpec {
        let file = url.path
        let root = try readJSONObject(url)
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformed(file: file, field: "model", problem: "missing or not an object")
        }
        if let type = model["type"] as? String, type != "WordPiece" {
            throw TokenizerError.unsupported(file: file, field: "model.type", value: type)
        }
        guard let vocabMap = model["vocab"] as? [String: Any] else {
            throw TokenizerError.malformed(file: file, field: "model.vocab", problem: "missing or not an object")
        }
        var vocab: [(String, Int32)] = []
        vocab.reserveCapacity(vocabMap.count)
        var lookup: [String: Int32] = [:]
        // Ids index the token table the tokenizer allocates, so they must stay below the number of tokens
        // (vocabulary plus added tokens): a stray huge id would otherwise allocate gigabytes.
        let idLimit = vocabMap.count + ((root["added_tokens"] as? [Any])?.count ?? 0)
        for (token, value) in vocabMap {
            guard let id = intValue(value), id >= 0, id <= Int(Int32.max) else {
                throw TokenizerError.malformed(file: file, field: "model.vocab[\"\(token)\"]",
                                               problem: "id is not a non-negative integer")
            }
            guard id < idLimit else {
                throw TokenizerError.malformed(file: file, field: "model.vocab[\"\(token)\"]",
                                               problem: "id \(id) is not below the number of tokens (\(idLimit))")
            }
            vocab.append((token, Int32(id)))
            lookup[token] = Int32(id)
        }
        vocab.sort { $0.1 < $1.1 }

        var wordPiece = WordPieceOptions()
        if let unk = model["unk_token"] as? String { wordPiece.unkToken = unk }
        if let prefix = model["continuing_subword_prefix"] as? String { wordPiece.continuingSubwordPrefix = prefix }
        if let v = model["max_input_chars_per_word"], !(v is NSNull) {
            guard let n = intValue(v), n >= 0 else {
                throw TokenizerError.malformed(file: file, field: "model.max_input_chars_per_word",
                                               problem: "not a non-negative integer")
            }
            wordPiece.maxInputCharsPerWord = n
        }

        let normalizer = try normalizerOptions(root["normalizer"], file: file)
        if let pre = root["pre_tokenizer"] as? [String: Any] {
            let type = pre["type"] as? String ?? "?"
            if type != "BertPreTokenizer" {
                throw TokenizerError.unsupported(file: file, field: "pre_tokenizer.type", value: type)
            }
        } else {
            throw TokenizerError.unsupported(file: file, field: "pre_tokenizer", value: "null")
        }

        // Added tokens: split out of the raw text (when not normalized) and known by id.
        var extra: [(String, Int32)] = []
        var splitTokens: [(String, Int32)] = []
        if let added = root["added_tokens"], !(added is NSNull) {
            guard let list = added as? [[String: Any]] else {
                throw TokenizerError.malformed(file: file, field: "added_tokens", problem: "not a list of objects")
            }
            for (k, entry) in list.enumerated() {
                guard let content = entry["content"] as? String, let id = entry["id"].flatMap(intValue),
                      id >= 0, id <= Int(Int32.max) else {
                    throw TokenizerError.malformed(file: file, field: "added_tokens[\(k)]",
                                                   problem: "needs a string `content` and a non-negative `id`")
                }
                guard id < idLimit else {
                    throw TokenizerError.malformed(file: file, field: "added_tokens[\(k)]",
                                                   problem: "id \(id) is not below the number of tokens (\(idLimit))")
                }
                // One id per token: an added token already in the vocabulary must carry the vocabulary's id
                // (Hugging Face writes it so), else its id would name no entry of the token table.
                if let known = lookup[content], Int(known) != id {
                    throw TokenizerError.malformed(file: file, field: "added_tokens[\(k)]",
                                                   problem: "id \(id) differs from the vocabulary's id \(known) for \"\(content)\"")
                }
                let special = entry["special"] as? Bool ?? false
                let normalized = entry["normalized"] as? Bool ?? !special
                if lookup[content] == nil {
                    extra.append((content, Int32(id)))
                    lookup[content] = Int32(id)
                }
                if !normalized && !content.isEmpty { splitTokens.append((content, Int32(id))) }
            }
        }

        func idOf(_ token: String, field: String) throws -> Int32 {
            guard let id = lookup[token] else {
                throw TokenizerError.malformed(file: file, field: field, problem: "token \"\(token)\" is not in the vocabulary")
            }
            return id
        }
        _ = try idOf(wordPiece.unkToken, field: "model.unk_token")

        var cls = "[CLS]", sep = "[SEP]"
        if let post = root["post_processor"] as? [String: Any] {
            switch post["type"] as? String {
            case "BertProcessing", "RobertaProcessing":
                if let c = post["cls"] as? [Any], let name = c.first as? String { cls = name }
                if let s = post["sep"] as? [Any], let name = s.first as? String { sep = name }
            case "TemplateProcessing":
                if let single = post["single"] as? [[String: Any]] {
                    let specials = single.compactMap { ($0["SpecialToken"] as? [String: Any])?["id"] as? String }
                    if specials.count == 2 { cls = specials[0]; sep = specials[1] }
                }
            default:
                break
            }
        }
        var padID: Int32 = lookup["[PAD]"] ?? 0
        if let padding = root["padding"] as? [String: Any] {
            if let value = padding["pad_id"], !(value is NSNull) {
                guard let id = intValue(value), id >= 0, id <= Int(Int32.max), lookup.values.contains(Int32(id)) else {
                    throw TokenizerError.malformed(file: file, field: "padding.pad_id",
                                                   problem: "\(value) is not the id of a token in the vocabulary")
                }
                padID = Int32(id)
            }
        }
        return TokenizerSpec(vocab: vocab, extraTokens: extra, normalizer: normalizer, wordPiece: wordPiece,
                             clsID: try idOf(cls, field: "post_processor (cls)"),
                             sepID: try idOf(sep, field: "post_processor (sep)"),
                             padID: padID, splitTokens: splitTokens, source: file)
    }

    private static func normalizerOptions(_ value: Any?, file: String) throws -> BertNormalizerOptions {
        guard let value, !(value is NSNull) else {
            return BertNormalizerOptions(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
        }
        guard let n = value as? [String: Any] else {
            throw TokenizerError.malformed(file: file, field: "normalizer", problem: "not an object")
        }
        let type = n["type"] as? String ?? "?"
        guard type == "BertNormalizer" else {
            throw TokenizerError.unsupported(file: file, field: "normalizer.type", value: type)
        }
        func flag(_ key: String, _ fallback: Bool) throws -> Bool {
            guard let v = n[key], !(v is NSNull) else { return fallback }
            guard let b = v as? Bool else {
                throw TokenizerError.malformed(file: file, field: "normalizer.\(key)", problem: "not a boolean")
            }
            return b
        }
        var strip: Bool? = nil
        if let v = n["strip_accents"], !(v is NSNull) {
            guard let b = v as? Bool else {
                throw TokenizerError.malformed(file: file, field: "normalizer.strip_accents", problem: "not a boolean or null")
            }
            strip = b
        }
        return BertNormalizerOptions(cleanText: try flag("clean_text", true),
                                     handleChineseChars: try flag("handle_chinese_chars", true),
                                     stripAccents: strip, lowercase: try flag("lowercase", true))
    }

    /// Reads `vocab.txt` (one token per line, id = line index) with options from `config` when given
    /// (`tokenizer_config.json`) and special-token names from `specialTokensMap` when given.
    static func loadVocabTxt(_ url: URL, config: URL?, specialTokensMap: URL?) throws -> TokenizerSpec {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(file: file, reason: error.localizedDescription)
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw TokenizerError.unreadable(file: file, reason: "not valid UTF-8")
        }
        // Lines end at "\n", "\r\n" or "\r" (Python universal newlines, as transformers reads vocab.txt).
        var vocab: [(String, Int32)] = []
        var lookup: [String: Int32] = [:]
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var lineStart = 0
            var i = 0
            func emit(_ end: Int) {
                let token = String(decoding: bytes[lineStart..<end], as: UTF8.self)
                lookup[token] = Int32(vocab.count)
                vocab.append((token, Int32(vocab.count)))
            }
            while i < bytes.count {
                let b = bytes[i]
                if b == 0x0A || b == 0x0D {
                    emit(i)
                    i += (b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A) ? 2 : 1
                    lineStart = i
                } else {
                    i += 1
                }
            }
            if lineStart < bytes.count { emit(bytes.count) }
        }
        guard !vocab.isEmpty else {
            throw TokenizerError.malformed(file: file, field: "lines", problem: "vocabulary is empty")
        }

        var normalizer = BertNormalizerOptions()
        var wordPiece = WordPieceOptions()
        var names = SpecialTokenNames()
        func applyNames(_ obj: [String: Any]) {
            func name(_ key: String) -> String? {
                if let s = obj[key] as? String { return s }
                return (obj[key] as? [String: Any])?["content"] as? String
            }
            if let s = name("unk_token") { wordPiece.unkToken = s }
            if let s = name("cls_token") { names.cls = s }
            if let s = name("sep_token") { names.sep = s }
            if let s = name("pad_token") { names.pad = s }
            if let s = name("mask_token") { names.mask = s }
        }
        if let config {
            let obj = try readJSONObject(config)
            func flag(_ key: String) throws -> Bool? {
                guard let v = obj[key], !(v is NSNull) else { return nil }
                guard let b = v as? Bool else {
                    throw TokenizerError.malformed(file: config.path, field: key, problem: "not a boolean")
                }
                return b
            }
            if let b = try flag("do_lower_case") { normalizer.lowercase = b }
            normalizer.stripAccents = try flag("strip_accents")
            if let b = try flag("tokenize_chinese_chars") { normalizer.handleChineseChars = b }
            applyNames(obj)
        }
        if let specialTokensMap { applyNames(try readJSONObject(specialTokensMap)) }

        func idOf(_ token: String, field: String) throws -> Int32 {
            guard let id = lookup[token] else {
                throw TokenizerError.malformed(file: file, field: field, problem: "token \"\(token)\" is not in the vocabulary")
            }
            return id
        }
        let unk = try idOf(wordPiece.unkToken, field: "unk_token")
        let cls = try idOf(names.cls, field: "cls_token")
        let sep = try idOf(names.sep, field: "sep_token")
        let pad = lookup[names.pad] ?? 0
        var split: [(String, Int32)] = [(wordPiece.unkToken, unk), (names.cls, cls), (names.sep, sep)]
        if let p = lookup[names.pad] { split.append((names.pad, p)) }
        if let m = names.mask, let id = lookup[m] { split.append((m, id)) }
        return TokenizerSpec(vocab: vocab, normalizer: normalizer, wordPiece: wordPiece, clsID: cls, sepID: sep,
                             padID: pad, splitTokens: split, source: file)
    }

    static func readJSONObject(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: "invalid JSON (\(error.localizedDescription))")
        }
        guard let obj = parsed as? [String: Any] else {
            throw TokenizerError.malformed(file: url.path, field: "(root)", problem: "not a JSON object")
        }
        return obj
    }

    static func intValue(_ value: Any) -> Int? {
        if let i = value as? Int { return i }
        if let n = value as? NSNumber {
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 1e15 ? Int(d) : nil
        }
        return nil
    }
}
