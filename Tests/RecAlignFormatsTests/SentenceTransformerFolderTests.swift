// SentenceTransformerFolderTests: the real all-MiniLM-L6-v2 layout, plain HF folders, unsupported modules, writer.
import Foundation
import Testing
import RecAlignFormats

@Suite struct SentenceTransformerFolderTests {
    @Test func readsMiniLMFolder() throws {
        let f = try SentenceTransformerFolder.load(Fixtures.miniLM)
        #expect(f.hasModulesFile)
        #expect(f.config.hiddenSize == 384 && f.config.numHiddenLayers == 6 && f.config.numAttentionHeads == 12)
        #expect(f.config.intermediateSize == 1536)
        #expect(f.maxSeqLength == 256 && f.doLowerCase == false)
        #expect(f.pooling.modes == [.mean] && f.pooling.wordEmbeddingDimension == 384 && f.pooling.includePrompt)
        #expect(f.pooling.outputDimension == 384)
        #expect(f.normalize)
        #expect(f.modules.map(\.path) == ["", "1_Pooling", "2_Normalize"])
        #expect(f.transformerPath == Fixtures.miniLM)
        #expect(f.weightsPath == nil)   // fixtures hold no weights
    }

    /// Copies the fixture JSON files into a scratch folder, applying `edit` to (name -> text).
    func folder(_ edit: (inout [String: String]) -> Void) throws -> String {
        var files: [String: String] = [:]
        for name in ["config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json", "tokenizer_config.json"] {
            files[name] = String(decoding: try Fixtures.data("all-MiniLM-L6-v2/\(name)"), as: UTF8.self)
        }
        edit(&files)
        let dir = try scratchDir()
        for (name, text) in files { try AtomicFile.write(text, to: (dir as NSString).appendingPathComponent(name)) }
        return dir
    }

    @Test func plainHFFolderDefaults() throws {
        // No modules.json: mean pooling, no normalize, max length = min(max_position_embeddings, model_max_length).
        let dir = try folder { f in
            f["modules.json"] = nil; f["sentence_bert_config.json"] = nil; f["1_Pooling/config.json"] = nil
            f["tokenizer_config.json"] = #"{"model_max_length": 128}"#
        }
        let f = try SentenceTransformerFolder.load(dir)
        #expect(!f.hasModulesFile && !f.normalize && f.pooling.modes == [.mean] && f.maxSeqLength == 128)
        #expect(f.pooling.wordEmbeddingDimension == 384)
        let dir2 = try folder { f in f["modules.json"] = nil; f["tokenizer_config.json"] = nil }
        #expect(try SentenceTransformerFolder.load(dir2).maxSeqLength == 512)
        for d in [dir, dir2] { try FileManager.default.removeItem(atPath: d) }
    }

    @Test func modulesWithoutNormalizeOrMaxLength() throws {
        let dir = try folder { f in
            f["modules.json"] = #"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]"#
            f["sentence_bert_config.json"] = #"{"do_lower_case": true}"#
            f["1_Pooling/config.json"] = #"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true}"#
        }
        let f = try SentenceTransformerFolder.load(dir)
        #expect(!f.normalize && f.doLowerCase && f.pooling.modes == [.cls] && f.maxSeqLength == 512)
        try FileManager.default.removeItem(atPath: dir)
    }

    @Test func errorsNameFileAndField() throws {
        let dense = try folder { f in
            f["modules.json"] = #"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"}]"#
        }
        let e1 = #expect(throws: FormatError.self) { try SentenceTransformerFolder.load(dense) }
        #expect(e1?.kind == .unsupported && e1?.field == "module 2")
        #expect(e1?.description.contains("modules.json: module 2: module type 'sentence_transformers.models.Dense'") == true)

        let badPool = try folder { f in f["1_Pooling/config.json"] = #"{"word_embedding_dimension": 384, "pooling_mode_mean_tokens": "yes"}"# }
        let e2 = #expect(throws: FormatError.self) { try SentenceTransformerFolder.load(badPool) }
        #expect(e2?.kind == .wrongType && e2?.field == "pooling_mode_mean_tokens")
        #expect(e2?.file.hasSuffix("1_Pooling/config.json") == true)

        let noMode = try folder { f in f["1_Pooling/config.json"] = #"{"word_embedding_dimension": 384}"# }
        let e3 = #expect(throws: FormatError.self) { try SentenceTransformerFolder.load(noMode) }
        #expect(e3?.kind == .badValue)

        let wrongDim = try folder { f in f["1_Pooling/config.json"] = #"{"word_embedding_dimension": 768, "pooling_mode_mean_tokens": true}"# }
        let e4 = #expect(throws: FormatError.self) { try SentenceTransformerFolder.load(wrongDim) }
        #expect(e4?.field == "word_embedding_dimension")

        let badModules = try folder { f in f["modules.json"] = #"[{"idx":0,"name":"0","type":"sentence_transformers.models.Transformer"}]"# }
        let e5 = #expect(throws: FormatError.self) { try SentenceTransformerFolder.load(badModules) }
        #expect(e5?.field == "modules[0].path")

        let badMax = try folder { f in f["sentence_bert_config.json"] = #"{"max_seq_length": "256"}"# }
        let e6 = #expect(throws: FormatError.self) { try SentenceTransformerFolder.load(badMax) }
        #expect(e6?.field == "max_seq_length" && e6?.file.hasSuffix("sentence_bert_config.json") == true)
        for d in [dense, badPool, noMode, wrongDim, badModules, badMax] { try FileManager.default.removeItem(atPath: d) }
    }

    /// Writing the MiniLM description reproduces the original sentence-transformers files byte for byte.
    @Test func writerReproducesOriginalFiles() throws {
        let f = try SentenceTransformerFolder.load(Fixtures.miniLM)
        let out = try scratchDir()
        try f.write(to: out)
        for name in ["modules.json", "sentence_bert_config.json", "1_Pooling/config.json"] {
            let written = try Data(contentsOf: URL(fileURLWithPath: (out as NSString).appendingPathComponent(name)))
            #expect(written == (try Fixtures.data("all-MiniLM-L6-v2/\(name)")), "\(name)")
        }
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("2_Normalize"), isDirectory: &isDir) && isDir.boolValue)
        let st = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: (out as NSString).appendingPathComponent("config_sentence_transformers.json"))))
        #expect(st.objectValue?["__version__"]?.objectValue?["sentence_transformers"] != nil)
        let copied = try SentenceTransformerFolder.copyTokenizerFiles(from: Fixtures.miniLM, to: out)
        #expect(copied == ["tokenizer_config.json", "special_tokens_map.json"])
        // And the written folder reads back as the same description.
        let back = try SentenceTransformerFolder.load(out)
        #expect(back.config == f.config && back.maxSeqLength == 256 && back.pooling == f.pooling && back.normalize)
        #expect(back.modules == f.modules)
        try FileManager.default.removeItem(atPath: out)
    }

    @Test func writerWithoutNormalizeAndOtherPooling() throws {
        var pool = PoolingConfig(wordEmbeddingDimension: 384, mode: .cls)
        pool.includePrompt = false
        let f = SentenceTransformerFolder(config: try BertConfig.load(Fixtures.path("all-MiniLM-L6-v2/config.json")),
                                          maxSeqLength: 128, pooling: pool, normalize: false)
        let out = try scratchDir()
        try f.write(to: out)
        #expect(!FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("2_Normalize")))
        let back = try SentenceTransformerFolder.load(out)
        #expect(!back.normalize && back.pooling.modes == [.cls] && !back.pooling.includePrompt && back.maxSeqLength == 128)
        #expect(back.modules.count == 2)
        try FileManager.default.removeItem(atPath: out)
    }
}
