// Token-for-token parity with Hugging Face `tokenizers` on the golden cases, through both loading paths.

import Foundation
import Testing
import RecAlignTokenizer

@Suite struct GoldenParityTests {
    @Test func tokenizerJSONMatchesHuggingFaceOnEveryCase() throws {
        let tok = try Fixtures.jsonTokenizer()
        let cases = try Fixtures.cases()
        #expect(cases.count >= 300)
        var mismatches = 0
        for c in cases {
            let got = tok.encode(c.text, maxLength: nil)
            if got.ids != c.ids {
                mismatches += 1
                Issue.record("text \(c.text.unicodeScalars.map { String($0.value, radix: 16) }): got \(got.ids.map { tok.token(of: $0) ?? "?" }) want \(c.tokens)")
            }
            #expect(got.fullLength == c.ids.count)
            #expect(!got.truncated)
        }
        #expect(mismatches == 0)
    }

    @Test func randomTextsMatchHuggingFace() throws {
        let json = try Fixtures.jsonTokenizer()
        let vocab = try Fixtures.vocabTokenizer()
        let cases = try Fixtures.cases("fuzz.json")
        #expect(cases.count == 1000)
        var mismatches = 0
        for c in cases {
            let got = json.encode(c.text, maxLength: nil).ids
            if got != c.ids {
                mismatches += 1
                Issue.record("text \(c.text.unicodeScalars.map { String($0.value, radix: 16) }): got \(got) want \(c.ids)")
            }
            #expect(vocab.encode(c.text, maxLength: nil).ids == c.ids)
            #expect(json.countTokens(c.text) == c.ids.count - 2)
        }
        #expect(mismatches == 0)
    }

    @Test func vocabTxtPathGivesIdenticalIds() throws {
        let json = try Fixtures.jsonTokenizer()
        let vocab = try Fixtures.vocabTokenizer()
        #expect(json.normalizerOptions == vocab.normalizerOptions)
        #expect(json.wordPieceOptions == vocab.wordPieceOptions)
        #expect([json.clsID, json.sepID, json.padID, json.unkID] == [101, 102, 0, 100])
        #expect([vocab.clsID, vocab.sepID, vocab.padID, vocab.unkID] == [101, 102, 0, 100])
        for c in try Fixtures.cases() {
            #expect(vocab.encode(c.text, maxLength: nil).ids == c.ids, "text: \(c.text)")
        }
    }

    @Test func tokenizeAndCountAgreeWithGoldenTokens() throws {
        let tok = try Fixtures.jsonTokenizer()
        for c in try Fixtures.cases() {
            let inner = Array(c.tokens.dropFirst().dropLast())
            #expect(tok.tokenize(c.text) == inner, "text: \(c.text)")
            #expect(tok.countTokens(c.text) == inner.count)
        }
    }

    @Test func folderInitPrefersTokenizerJSON() throws {
        let tok = try BertTokenizer(folder: Fixtures.folder)
        #expect(tok.source.hasSuffix("tokenizer.json"))
        #expect(tok.vocabularySize == 30522)
        #expect(tok.tokenize("unkonwn (unkonwn) unknown") == ["un", "##kon", "##wn", "(", "un", "##kon", "##wn", ")", "unknown"])
    }
}
