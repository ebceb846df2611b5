// FuzzRegressionTests: the tokenizer.json inputs kept in Fuzz/regressions/tokenizer-files load with a clear error.
import Foundation
import Testing
import RecAlignTokenizer
import RecAlignTestSupport

@Suite struct FuzzRegressionTests {
    /// Fuzz/regressions/tokenizer-files (Scripts/fuzz.sh replays the same files).
    static let folder = TestPaths.repoRoot.appendingPathComponent("Fuzz/regressions/tokenizer-files")

    /// (file, field the error must name). Each used to crash: an added token re-using a vocabulary token
    /// under another id (tokenize indexed past the token table), ids near Int32.max (a 32 GB token table),
    /// and a pad_id past Int32 (an Int32 conversion trap).
    static let cases: [(String, String)] = [
        ("added_id_mismatch.json", "added_tokens[0]"),
        ("huge_id.json", "model.vocab[\"b\"]"),
        ("huge_added_id.json", "added_tokens[0]"),
        ("pad_id_overflow.json", "padding.pad_id"),
    ]

    @Test(arguments: 0..<cases.count)
    func loadingThrowsNamingTheField(_ i: Int) {
        let (name, field) = Self.cases[i]
        let url = Self.folder.appendingPathComponent(name)
        #expect(FileManager.default.fileExists(atPath: url.path))
        #expect { try BertTokenizer(tokenizerJSON: url) } throws: { error in
            guard case TokenizerError.malformed(let file, let f, _) = error else { return false }
            return file == url.path && f == field
        }
    }
}
