// TestSupport: the data tests' fixture paths (the shared ones from RecAlignTestSupport) and a fake token counter.
import Foundation
import RecAlignData
import RecAlignTestSupport

enum Fixtures {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    /// Tests/RecAlignDataTests/Fixtures (this target's own files).
    static func path(_ rel: String) -> String { testsDir.appendingPathComponent("Fixtures").appendingPathComponent(rel).path }
    static let mlTiny = TestPaths.corpusFixture("ml-tiny")
    static let ml100k = TestPaths.ml100k
    static var hasML100K: Bool { FileManager.default.fileExists(atPath: ml100k + "/ml-100k.inter") }

    /// A fresh empty temporary folder.
    static func tempDir() throws -> String { TestPaths.tempDir("data") }
}

/// Fake token counter: one token per space-separated word.
func wordCount(_ s: String) -> Int { s.split(separator: " ").count }
