// TestPaths: the repository paths (fixtures, reference model, corpora) and scratch folders every test target uses.
import Foundation

/// Where the tests find what they read, from this file's path (Tests/RecAlignTestSupport/TestPaths.swift), so
/// that they run from any working directory.
public enum TestPaths {
    /// The repository root.
    public static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// `Tests/Fixtures` (golden outputs, tokenizer files) or a path below it.
    public static let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures")
    public static func fixture(_ rel: String) -> String { fixtures.appendingPathComponent(rel).path }
    /// `corpora/fixtures` (ml-tiny, candidates_small.jsonl) or a path below it.
    public static func corpusFixture(_ rel: String) -> String {
        repoRoot.appendingPathComponent("corpora/fixtures").appendingPathComponent(rel).path
    }
    /// The downloaded reference model, `checkpoints/all-MiniLM-L6-v2` (`checkpoints/fetch_model.sh`).
    public static let modelDir = repoRoot.appendingPathComponent("checkpoints/all-MiniLM-L6-v2").path
    /// True when the reference model is downloaded.
    public static var hasModel: Bool { FileManager.default.fileExists(atPath: modelDir + "/model.safetensors") }
    /// The downloaded MovieLens-100K corpus, `corpora/ml-100k` (`corpora/fetch_ml100k.sh`).
    public static let ml100k = repoRoot.appendingPathComponent("corpora/ml-100k").path
    /// True when ml-100k is downloaded.
    public static var hasML100K: Bool { FileManager.default.fileExists(atPath: ml100k + "/ml-100k.inter") }

    /// A fresh empty folder under the system temp dir, `recalign-<tag>-<uuid>` (the caller removes it).
    public static func tempDir(_ tag: String) -> String {
        let safe = tag.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        let d = (NSTemporaryDirectory() as NSString).appendingPathComponent("recalign-\(safe)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}
