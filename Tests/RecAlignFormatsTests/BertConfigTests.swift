// BertConfigTests: defaults, the real all-MiniLM-L6-v2 config, type errors naming key and file, JSON round trip.
import Foundation
import Testing
import RecAlignFormats

@Suite struct BertConfigTests {
    @Test func emptyObjectTakesBertDefaults() throws {
        let c = try BertConfig(data: Data("{}".utf8), file: "config.json")
        #expect(c.hiddenSize == 768 && c.numHiddenLayers == 12 && c.numAttentionHeads == 12)
        #expect(c.intermediateSize == 3072 && c.vocabSize == 30522 && c.maxPositionEmbeddings == 512)
        #expect(c.typeVocabSize == 2 && c.layerNormEps == 1e-12 && c.hiddenAct == "gelu")
        #expect(c.hiddenDropoutProb == 0.1 && c.attentionProbsDropoutProb == 0.1)
        #expect(c.modelType == "bert" && c.architectures == nil && c.extra.isEmpty)
        #expect(c == BertConfig())
        #expect(c.headDim == 64)
    }

    @Test func readsMiniLMConfig() throws {
        let c = try BertConfig.load(Fixtures.path("all-MiniLM-L6-v2/config.json"))
        #expect(c.hiddenSize == 384 && c.numHiddenLayers == 6 && c.numAttentionHeads == 12)
        #expect(c.intermediateSize == 1536 && c.vocabSize == 30522 && c.maxPositionEmbeddings == 512)
        #expect(c.headDim == 32)
        #expect(c.architectures == ["BertModel"])
        #expect(c.extra["pad_token_id"] == .int(0))
        #expect(c.extra["position_embedding_type"] == .string("absolute"))
    }

    @Test func wrongTypesNameKeyAndFile() {
        let cases: [(String, String, FormatError.Kind)] = [
            (#"{"hidden_size": "384"}"#, "hidden_size", .wrongType),
            (#"{"num_hidden_layers": 6.5}"#, "num_hidden_layers", .wrongType),
            (#"{"layer_norm_eps": "tiny"}"#, "layer_norm_eps", .wrongType),
            (#"{"hidden_act": 3}"#, "hidden_act", .wrongType),
            (#"{"architectures": "BertModel"}"#, "architectures", .wrongType),
            (#"{"architectures": [1]}"#, "architectures[0]", .wrongType),
            (#"{"num_attention_heads": 0}"#, "num_attention_heads", .badValue),
            (#"{"hidden_size": 100, "num_attention_heads": 12}"#, "num_attention_heads", .badValue),
            (#"{"hidden_dropout_prob": 1.5}"#, "hidden_dropout_prob", .badValue),
        ]
        for (json, key, kind) in cases {
            let e = #expect(throws: FormatError.self) { try BertConfig(data: Data(json.utf8), file: "m/config.json") }
            #expect(e?.kind == kind, "\(json)")
            #expect(e?.field == key, "\(json)")
            #expect(e?.description.hasPrefix("m/config.json: \(key): ") == true, "\(String(describing: e))")
        }
        let e1 = #expect(throws: FormatError.self) { try BertConfig(data: Data("[1]".utf8), file: "c.json") }
        #expect(e1?.kind == .notAnObject)
        let e2 = #expect(throws: FormatError.self) { try BertConfig(data: Data("{\"a\":".utf8), file: "c.json") }
        #expect(e2?.kind == .malformedJSON)
        let e3 = #expect(throws: FormatError.self) { try BertConfig.load("/nonexistent/config.json") }
        #expect(e3?.kind == .cannotRead)
    }

    @Test func encodeRoundTripsAndKeepsExtraKeys() throws {
        var c = try BertConfig.load(Fixtures.path("all-MiniLM-L6-v2/config.json"))
        c.numHiddenLayers = 3
        let text = String(decoding: c.encode(), as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"_name_or_path\": \"nreimers/MiniLM-L6-H384-uncased\",\n  \"architectures\": [\n    \"BertModel\"\n  ],"))
        #expect(text.contains("\n  \"layer_norm_eps\": 1e-12,\n"))
        #expect(text.contains("\n  \"hidden_dropout_prob\": 0.1,\n"))
        #expect(text.hasSuffix("\"vocab_size\": 30522\n}\n"))
        let back = try BertConfig(data: c.encode(), file: "enc")
        #expect(back == c)
        // The written object equals the original file's object except the changed key.
        var orig = try JSONValue.parse(Fixtures.data("all-MiniLM-L6-v2/config.json")).objectValue!
        orig["num_hidden_layers"] = .int(3)
        #expect(try JSONValue.parse(c.encode()).objectValue == orig)
    }
}
