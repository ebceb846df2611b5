// Loading from folders and files: option parsing, and clear errors for missing or bad files.

import Foundation
import Testing
import RecAlignTokenizer

@Suite struct LoadingTests {
    /// A tiny hand-made tokenizer.json (cased, accents stripped, no CJK spacing, prefix "@@", 6 chars max).
    static let tinyJSON = """
    {"version": "1.0", "truncation": null, "padding": null,
     "added_tokens": [{"id": 0, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false,
                       "normalized": false, "special": true},
                      {"id": 9, "content": "<extra>", "single_word": false, "lstrip": false, "rstrip": false,
                       "normalized": false, "special": true}],
     "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": false,
                    "strip_accents": true, "lowercase": false},
     "pre_tokenizer": {"type": "BertPreTokenizer"},
     "post_processor": {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "pair": [], "special_tokens": {}},
     "decoder": null,
     "model": {"type": "WordPiece", "unk_token": "<unk>", "continuing_subword_prefix": "@@",
               "max_input_chars_per_word": 6,
               "vocab": {"<pad>": 0, "<unk>": 1, "<s>": 2, "</s>": 3, "Cafe": 4, "@@s": 5, "中文": 6, "ab": 7, "@@ab": 8}}}
    """

    func writeTiny() throws -> URL {
        let folder = try Fixtures.tempFolder()
        try Self.tinyJSON.write(to: folder.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func tinyTokenizerJSONOptionsAreHonoured() throws {
        let folder = try writeTiny()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tok = try BertTokenizer(folder: folder)
        #expect(tok.normalizerOptions == BertNormalizerOptions(cleanText: true, handleChineseChars: false,
                                                               stripAccents: true, lowercase: false))
        #expect(tok.wordPieceOptions == WordPieceOptions(unkToken: "<unk>", continuingSubwordPrefix: "@@",
                                                         maxInputCharsPerWord: 6))
        #expect([tok.clsID, tok.sepID, tok.padID, tok.unkID] == [2, 3, 0, 1])
        #expect(tok.vocabularySize == 10)
        #expect(tok.token(of: 9) == "<extra>")
        #expect(tok.tokenize("Cafés") == ["Cafe", "@@s"])
        #expect(tok.tokenize("cafés") == ["<unk>"])
        #expect(tok.tokenize("中文") == ["中文"])
        #expect(tok.tokenize("ababab") == ["ab", "@@ab", "@@ab"])
        #expect(tok.tokenize("abababab") == ["<unk>"])        // 8 > 6 scalars
        #expect(tok.tokenIDs("ab<extra>ab") == [7, 9, 7])
        #expect(tok.encode("Cafe", maxLength: nil).ids == [2, 4, 3])
    }

    @Test func missingVocabularyNamesTheFolder() throws {
        let folder = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try BertTokenizer(folder: folder)
            Issue.record("expected an error")
        } catch let e as TokenizerError {
            #expect(e == .missingVocabulary(folder: folder.path))
            #expect(e.description.contains(folder.path))
        }
    }

    @Test func badFilesGiveErrorsNamingTheFile() throws {
        let folder = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("tokenizer.json")

        try "{not json".write(to: json, atomically: true, encoding: .utf8)
        #expect { try BertTokenizer(folder: folder) } throws: { error in
            guard case TokenizerError.unreadable(let file, _) = error else { return false }
            return file == json.path
        }

        try Self.tinyJSON.replacingOccurrences(of: "\"type\": \"WordPiece\"", with: "\"type\": \"BPE\"")
            .write(to: json, atomically: true, encoding: .utf8)
        #expect { try BertTokenizer(folder: folder) } throws: { error in
            (error as? TokenizerError) == .unsupported(file: json.path, field: "model.type", value: "BPE")
        }

        try Self.tinyJSON.replacingOccurrences(of: "\"<unk>\": 1,", with: "")
            .write(to: json, atomically: true, encoding: .utf8)
        #expect { try BertTokenizer(folder: folder) } throws: { error in
            guard case TokenizerError.malformed(let file, let field, _) = error else { return false }
            return file == json.path && field == "model.unk_token"
        }

        try Self.tinyJSON.replacingOccurrences(of: "\"ab\": 7", with: "\"ab\": \"seven\"")
            .write(to: json, atomically: true, encoding: .utf8)
        #expect { try BertTokenizer(folder: folder) } throws: { error in
            guard case TokenizerError.malformed(_, let field, _) = error else { return false }
            return field == "model.vocab[\"ab\"]"
        }
    }

    @Test func vocabTxtWithConfigAndDefaults() throws {
        let folder = try Fixtures.tempFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nCafé\ncafe\n##s\r\n".write(
            to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        // No config: uncased defaults (lowercase, strip accents).
        let uncased = try BertTokenizer(folder: folder)
        #expect(uncased.source.hasSuffix("vocab.txt"))
        #expect(uncased.vocabularySize == 7)
        #expect(uncased.tokenize("CAFÉS") == ["cafe", "##s"])   // the "\r\n" line ending is dropped
        // Cased config.
        try #"{"do_lower_case": false, "strip_accents": null, "tokenize_chinese_chars": true}"#.write(
            to: folder.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        let cased = try BertTokenizer(folder: folder)
        #expect(cased.normalizerOptions.effectiveStripAccents == false)
        #expect(cased.tokenize("Cafés") == ["Café", "##s"])
        // A vocabulary without the unknown token is rejected, naming the file.
        try "[CLS]\n[SEP]\na\n".write(to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        #expect { try BertTokenizer(folder: folder) } throws: { error in
            guard case TokenizerError.malformed(let file, let field, _) = error else { return false }
            return file.hasSuffix("vocab.txt") && field == "unk_token"
        }
    }

    /// Ids index tables: a tokenizer.json id at or past the number of tokens is refused naming its field (the
    /// file-level checks, FuzzRegressionTests); `maxTokenID` covers every id the tokenizer can emit, and the
    /// model compares it with its embedding rows.
    @Test func idsOutsideTheVocabularyAreRefused() throws {
        let folder = try writeTiny()
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("tokenizer.json")
        #expect(try BertTokenizer(folder: folder).maxTokenID == 9)
        try Self.tinyJSON.replacingOccurrences(of: "\"@@ab\": 8", with: "\"@@ab\": 2147483647")
            .write(to: json, atomically: true, encoding: .utf8)
        #expect { try BertTokenizer(folder: folder) } throws: { error in
            guard case TokenizerError.malformed(let file, let field, let problem) = error else { return false }
            return file == json.path && field == "model.vocab[\"@@ab\"]" && problem.contains("2147483647")
        }
        for pad in ["4294967296", "40"] {
            try Self.tinyJSON.replacingOccurrences(of: "\"padding\": null", with: "\"padding\": {\"pad_id\": \(pad)}")
                .write(to: json, atomically: true, encoding: .utf8)
            #expect { try BertTokenizer(folder: folder) } throws: { error in
                guard case TokenizerError.malformed(_, let field, _) = error else { return false }
                return field == "padding.pad_id"
            }
        }
        // The in-memory bound behind the file checks: a hand-built vocabulary's ids are its indices.
        #expect(try BertTokenizer(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"]).maxTokenID == 4)
    }
}
