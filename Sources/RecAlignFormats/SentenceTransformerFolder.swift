// SentenceTransformerFolder: reads / writes the sentence-transformers layout around an HF BERT folder.
import Foundation

/// One entry of `modules.json`.
public struct SentenceTransformerModule: Equatable, Sendable {
    public var idx: Int
    public var name: String
    /// Folder relative to the model folder ("" = the model folder itself).
    public var path: String
    /// Python class, e.g. `sentence_transformers.models.Pooling`.
    public var type: String

    public init(idx: Int, name: String, path: String, type: String) {
        self.idx = idx; self.name = name; self.path = path; self.type = type
    }

    public static let transformerType = "sentence_transformers.models.Transformer"
    public static let poolingType = "sentence_transformers.models.Pooling"
    public static let normalizeType = "sentence_transformers.models.Normalize"
}

/// A model folder as sentence-transformers sees it: encoder config, max length, pooling, normalisation.
///
/// With `modules.json`: modules are read from it; only Transformer, Pooling and Normalize modules are
/// supported (any other, e.g. Dense, is an `.unsupported` error rather than silently wrong embeddings).
/// Without `modules.json` (a plain HF folder) this follows what `SentenceTransformer(path)` does when it
/// wraps a plain model: mean pooling, no normalisation, `do_lower_case` false, and
/// max length = min(max_position_embeddings, tokenizer_config.json's `model_max_length` if present).
public struct SentenceTransformerFolder: Equatable, Sendable {
    /// The model folder.
    public var path: String
    /// True if the folder had a `modules.json`.
    public var hasModulesFile: Bool
    /// The modules in `idx` order (synthesised Transformer + Pooling for a plain HF folder).
    public var modules: [SentenceTransformerModule]
    /// Folder holding the encoder's config.json / model.safetensors (the Transformer module's path).
    public var transformerPath: String
    /// The encoder config (`<transformerPath>/config.json`).
    public var config: BertConfig
    /// `sentence_bert_config.json`'s `max_seq_length` (or the plain-folder default above).
    public var maxSeqLength: Int
    /// `sentence_bert_config.json`'s `do_lower_case` (lower-casing done by sentence-transformers itself,
    /// on top of the tokenizer's own `do_lower_case`).
    public var doLowerCase: Bool
    public var pooling: PoolingConfig
    /// True if a `sentence_transformers.models.Normalize` module follows pooling.
    public var normalize: Bool

    /// `<transformerPath>/config.json`.
    public var configPath: String { (transformerPath as NSString).appendingPathComponent("config.json") }
    /// `<transformerPath>/model.safetensors` if that file exists.
    public var weightsPath: String? {
        let p = (transformerPath as NSString).appendingPathComponent("model.safetensors")
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// A description for writing a new folder (e.g. a tuned model) with `write(to:)`.
    public init(config: BertConfig, maxSeqLength: Int, doLowerCase: Bool = false,
                pooling: PoolingConfig? = nil, normalize: Bool) {
        self.path = ""
        self.hasModulesFile = true
        self.config = config
        self.transformerPath = ""
        self.maxSeqLength = maxSeqLength
        self.doLowerCase = doLowerCase
        self.pooling = pooling ?? PoolingConfig(wordEmbeddingDimension: config.hiddenSize, mode: .mean)
        self.normalize = normalize
        self.modules = SentenceTransformerFolder.standardModules(normalize: normalize)
    }

    static func standardModules(normalize: Bool) -> [SentenceTransformerModule] {
        var m = [SentenceTransformerModule(idx: 0, name: "0", path: "", type: SentenceTransformerModule.transformerType),
                 SentenceTransformerModule(idx: 1, name: "1", path: "1_Pooling", type: SentenceTransformerModule.poolingType)]
        if normalize {
            m.append(SentenceTransformerModule(idx: 2, name: "2", path: "2_Normalize", type: SentenceTransformerModule.normalizeType))
        }
        return m
    }

    /// Reads the folder at `path` (see the type's documentation for the rules).
    public static func load(_ path: String) throws -> SentenceTransformerFolder {
        let fm = FileManager.default
        func join(_ a: String, _ b: String) -> String { b.isEmpty ? a : (a as NSString).appendingPathComponent(b) }
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw FormatError(.cannotRead, file: path, "not a folder")
        }
        let modulesPath = join(path, "modules.json")
        guard fm.fileExists(atPath: modulesPath) else {
            // Plain HF folder.
            let config = try BertConfig.load(join(path, "config.json"))
            var maxLen = config.maxPositionEmbeddings
            let tokConfig = join(path, "tokenizer_config.json")
            if fm.fileExists(atPath: tokConfig) {
                let t = try JSONFile.readObject(tokConfig)
                if let v = t["model_max_length"], let m = v.intValue, m > 0 { maxLen = min(maxLen, Int(clamping: m)) }
            }
            var f = SentenceTransformerFolder(config: config, maxSeqLength: maxLen, doLowerCase: false,
                                              pooling: PoolingConfig(wordEmbeddingDimension: config.hiddenSize, mode: .mean),
                                              normalize: false)
            f.path = path; f.transformerPath = path; f.hasModulesFile = false
            return f
        }
        let modules = try readModules(modulesPath)
        var transformer: SentenceTransformerModule?
        var poolingModule: SentenceTransformerModule?
        var normalize = false
        for m in modules {
            switch m.type {
            case SentenceTransformerModule.transformerType:
                if transformer != nil || poolingModule != nil {
                    throw FormatError(.unsupported, file: modulesPath, field: "module \(m.idx)",
                                      "a Transformer module must come first and only once")
                }
                transformer = m
            case SentenceTransformerModule.poolingType:
                if transformer == nil || poolingModule != nil {
                    throw FormatError(.unsupported, file: modulesPath, field: "module \(m.idx)",
                                      "a Pooling module must follow the Transformer, once")
                }
                poolingModule = m
            case SentenceTransformerModule.normalizeType:
                if poolingModule == nil {
                    throw FormatError(.unsupported, file: modulesPath, field: "module \(m.idx)",
                                      "Normalize before Pooling is not supported")
                }
                normalize = true
            default:
                throw FormatError(.unsupported, file: modulesPath, field: "module \(m.idx)",
                                  "module type '\(m.type)' is not supported (only Transformer, Pooling, Normalize)")
            }
        }
        guard let t = transformer else {
            throw FormatError(.unsupported, file: modulesPath, "no sentence_transformers.models.Transformer module")
        }
        let tPath = join(path, t.path)
        let config = try BertConfig.load(join(tPath, "config.json"))
        // sentence_bert_config.json (optional; absent = the plain-folder max length rule).
        var maxLen = config.maxPositionEmbeddings
        var lower = false
        let sbPath = join(tPath, "sentence_bert_config.json")
        var sbHasMax = false
        if fm.fileExists(atPath: sbPath) {
            let o = try JSONFile.readObject(sbPath)
            let f = JSONFields(object: o, file: sbPath)
            if o["max_seq_length"] != nil, o["max_seq_length"] != .null {
                maxLen = try f.positiveInt("max_seq_length", default: maxLen)
                sbHasMax = true
            }
            lower = try f.bool("do_lower_case", default: false)
        }
        if !sbHasMax {
            let tokConfig = join(tPath, "tokenizer_config.json")
            if fm.fileExists(atPath: tokConfig), let m = try JSONFile.readObject(tokConfig)["model_max_length"]?.intValue, m > 0 {
                maxLen = min(maxLen, Int(clamping: m))
            }
        }
        let pooling: PoolingConfig
        if let p = poolingModule {
            pooling = try PoolingConfig.load(join(join(path, p.path), "config.json"))
            if pooling.wordEmbeddingDimension != config.hiddenSize {
                throw FormatError(.badValue, file: join(join(path, p.path), "config.json"), field: "word_embedding_dimension",
                                  "\(pooling.wordEmbeddingDimension) differs from the encoder's hidden_size \(config.hiddenSize)")
            }
        } else {
            throw FormatError(.unsupported, file: modulesPath, "no sentence_transformers.models.Pooling module")
        }
        var f = SentenceTransformerFolder(config: config, maxSeqLength: maxLen, doLowerCase: lower,
                                          pooling: pooling, normalize: normalize)
        f.path = path; f.transformerPath = tPath; f.hasModulesFile = true; f.modules = modules
        return f
    }

    static func readModules(_ file: String) throws -> [SentenceTransformerModule] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw FormatError(.cannotRead, file: file, "cannot read: \(error.localizedDescription)")
        }
        let v: JSONValue
        do { v = try JSONValue.parse(data) } catch { throw FormatError(.malformedJSON, file: file, "\(error)") }
        guard let list = v.arrayValue else {
            throw FormatError(.notAnObject, file: file, "top level is \(v.typeName), expected a list of modules")
        }
        var out: [SentenceTransformerModule] = []
        for (k, item) in list.enumerated() {
            guard let o = item.objectValue else {
                throw FormatError(.notAnObject, file: file, field: "modules[\(k)]", "is \(item.typeName), expected an object")
            }
            let f = JSONFields(object: o, file: file)
            for key in ["idx", "name", "path", "type"] where o[key] == nil {
                throw FormatError(.notAnObject, file: file, field: "modules[\(k)].\(key)", "missing")
            }
            do {
                out.append(SentenceTransformerModule(idx: try f.int("idx", default: k), name: try f.string("name", default: ""),
                                                     path: try f.string("path", default: ""), type: try f.string("type", default: "")))
            } catch let e as FormatError {
                throw FormatError(e.kind, file: file, field: "modules[\(k)].\(e.field ?? "")", e.detail)
            }
        }
        return out.sorted { $0.idx < $1.idx }
    }

    // MARK: writing

    /// `modules.json` text (json.dump indent=2 layout).
    public func modulesJSON() -> String {
        let items = SentenceTransformerFolder.standardModules(normalize: normalize).map { m in
            JSONValue.serializedOrdered([("idx", .int(Int64(m.idx))), ("name", .string(m.name)),
                                         ("path", .string(m.path)), ("type", .string(m.type))])
                .replacingOccurrences(of: "\n", with: "\n  ")
        }
        return "[\n  " + items.joined(separator: ",\n  ") + "\n]"
    }

    /// `sentence_bert_config.json` text.
    public func sentenceBertConfigJSON() -> String {
        JSONValue.serializedOrdered([("max_seq_length", .int(Int64(maxSeqLength))), ("do_lower_case", .bool(doLowerCase))])
    }

    /// `config_sentence_transformers.json` text.
    public static func sentenceTransformersConfigJSON() -> String {
        JSONValue.serializedOrdered([
            ("__version__", .object(["sentence_transformers": .string("2.0.0"), "transformers": .string("4.6.1"),
                                     "pytorch": .string("1.8.1")])),
            ("prompts", .object([:])),
            ("default_prompt_name", .null),
        ])
    }

    /// Writes the sentence-transformers files into `folder`: config.json, modules.json,
    /// sentence_bert_config.json, config_sentence_transformers.json, 1_Pooling/config.json and (if
    /// `normalize`) an empty 2_Normalize folder. The weights (model.safetensors) and tokenizer files are
    /// written separately (see `copyTokenizerFiles`). Every file goes through `AtomicFile`.
    public func write(to folder: String) throws {
        func join(_ b: String) -> String { (folder as NSString).appendingPathComponent(b) }
        try config.write(to: join("config.json"))
        try AtomicFile.write(modulesJSON(), to: join("modules.json"))
        try AtomicFile.write(sentenceBertConfigJSON(), to: join("sentence_bert_config.json"))
        try AtomicFile.write(SentenceTransformerFolder.sentenceTransformersConfigJSON(), to: join("config_sentence_transformers.json"))
        try AtomicFile.write(pooling.encode(), to: join("1_Pooling/config.json"))
        let normDir = join("2_Normalize")
        if normalize {
            do { try FileManager.default.createDirectory(atPath: normDir, withIntermediateDirectories: true) } catch {
                throw FormatError(.cannotRead, file: normDir, "cannot create folder: \(error.localizedDescription)")
            }
        }
    }

    /// Tokenizer files a loader needs, copied when present in the source folder.
    public static let tokenizerFileNames = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]

    /// Copies the tokenizer files that exist in `source` into `destination` (atomic writes).
    /// Returns the names copied.
    @discardableResult
    public static func copyTokenizerFiles(from source: String, to destination: String) throws -> [String] {
        var copied: [String] = []
        for name in tokenizerFileNames {
            let src = (source as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: src) else { continue }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: src)) } catch {
                throw FormatError(.cannotRead, file: src, "cannot read: \(error.localizedDescription)")
            }
            try AtomicFile.write(data, to: (destination as NSString).appendingPathComponent(name))
            copied.append(name)
        }
        return copied
    }
}
