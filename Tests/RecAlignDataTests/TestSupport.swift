// TestSupport: fixture paths (built from #filePath), the repo root, and a fake token counter for the tests.
import Foundation
import RecAlignData

enum Fixtures {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repoRoot = testsDir.deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ rel: String) -> String { testsDir.appendingPathComponent("Fixtures").appendingPathComponent(rel).path }
    static let mlTiny = repoRoot.appendingPathComponent("corpora/fixtures/ml-tiny").path
    static let ml100k = repoRoot.appendingPathComponent("corpora/ml-100k").path
    static var hasML100K: Bool { FileManager.default.fileExists(atPath: ml100k + "/ml-100k.inter") }

    /// A fresh empty temporary folder.
    static func tempDir() throws -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("recalign-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// Fake token counter: one token per space-separated word.
func wordCount(_ s: String) -> Int { s.split(separator: " ").count }
