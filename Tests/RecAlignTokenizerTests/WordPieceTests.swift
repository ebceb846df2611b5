// Hand-computed WordPiece and normalizer behaviour on tiny in-memory vocabularies.

import Foundation
import Testing
import RecAlignTokenizer

@Suite struct WordPieceTests {
    static let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                        "un", "unaff", "##aff", "##able", "##a", "a", "b", "##b", "x", ",", "cafe", "café",
                        "中", "文", "中文", "x\u{1D165}\u{1D16D}", "##bb"]

    func make(_ normalizer: BertNormalizerOptions = BertNormalizerOptions(),
              maxChars: Int = 100) throws -> BertTokenizer {
        try BertTokenizer(vocabulary: Self.vocab, normalizer: normalizer,
                          wordPiece: WordPieceOptions(maxInputCharsPerWord: maxChars))
    }

    @Test func greedyLongestMatchFirst() throws {
        let tok = try make()
        // "unaff" beats "un"; then "##able"; "##a" would also match but "##able" is longer.
        #expect(tok.tokenize("unaffable") == ["unaff", "##able"])
        // After "un", the longest continuation is "##aff" ... then "##a" + "##b" + "##bb"? greedy: "##bb" first.
        #expect(tok.tokenize("unaffabbb") == ["unaff", "##a", "##bb", "##b"])
        #expect(tok.tokenize("ab") == ["a", "##b"])
        #expect(tok.tokenIDs("unaffable") == [6, 8])
    }

    @Test func wordWithoutFullMatchIsOneUnknown() throws {
        let tok = try make()
        // "unaffablex": after "unaff", "##able", nothing covers "x" as a continuation -> whole word [UNK].
        #expect(tok.tokenize("unaffablex") == ["[UNK]"])
        #expect(tok.tokenize("zzz a") == ["[UNK]", "a"])
        #expect(tok.tokenIDs("unaffablex , b") == [1, 14, 11])
    }

    @Test func overlongWordIsUnknownCountingScalars() throws {
        let tok = try make(BertNormalizerOptions(lowercase: false), maxChars: 5)
        #expect(tok.tokenize("aaaaa") == ["a", "##a", "##a", "##a", "##a"])
        #expect(tok.tokenize("aaaaaa") == ["[UNK]"])
        // Three user-perceived characters, six scalars: too long (accents kept: strip follows lowercase=false).
        #expect(tok.tokenize("a\u{301}a\u{301}a\u{301}") == ["[UNK]"])
        #expect(tok.countTokens("aaaaaa b") == 2)
    }

    @Test func normalizerOptions() throws {
        // Defaults: lowercase + strip accents + CJK spacing.
        let uncased = try make()
        #expect(uncased.tokenize("CAFÉ") == ["cafe"])
        #expect(uncased.tokenize("中文") == ["中", "文"])
        // No accent stripping, no lowercasing.
        let cased = try make(BertNormalizerOptions(lowercase: false))
        #expect(cased.tokenize("café") == ["café"])
        #expect(cased.tokenize("Cafe") == ["[UNK]"])
        // Lowercase but keep accents.
        let keep = try make(BertNormalizerOptions(stripAccents: false, lowercase: true))
        #expect(keep.tokenize("CAFÉ") == ["café"])
        // No CJK spacing: the two ideographs stay one word.
        let noCJK = try make(BertNormalizerOptions(handleChineseChars: false))
        #expect(noCJK.tokenize("中文") == ["中文"])
        // Without clean_text, a control character stays inside the word.
        let dirty = try make(BertNormalizerOptions(cleanText: false))
        #expect(dirty.tokenize("a\u{1}b") == ["[UNK]"])
        #expect(uncased.tokenize("a\u{1}b") == ["a", "##b"])
    }

    @Test func canonicalReorderingOfKeptMarks() throws {
        // Verified against tokenizers' BertNormalizer: U+1D16D (ccc 226) and U+1D165 (ccc 216) are Mc marks
        // that survive accent stripping; NFD sorts them unless a starter (U+034F, Mn ccc 0) sits between.
        let tok = try make()
        #expect(tok.tokenize("X\u{1D16D}\u{301}\u{1D165}") == ["x\u{1D165}\u{1D16D}"])
        #expect(tok.tokenize("X\u{1D16D}\u{34F}\u{1D165}") == ["[UNK]"])
    }

    @Test func specialTokensInRawTextAreKept() throws {
        let tok = try make()
        #expect(tok.tokenIDs("a[MASK]b") == [10, 4, 11])
        #expect(tok.tokenIDs("[mask]") == [1, 1, 1])   // "[" "mask" "]": lowercase form is not special
        #expect(tok.tokenIDs("[CLS][SEP]") == [2, 3])
    }

    @Test func missingSpecialTokenIsAnError() {
        #expect(throws: TokenizerError.self) {
            _ = try BertTokenizer(vocabulary: ["a", "b"])
        }
    }
}
