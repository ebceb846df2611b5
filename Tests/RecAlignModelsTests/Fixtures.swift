// Fixtures: paths of the committed golden fixtures and the downloaded reference model.
import Foundation
import RecAlignFormats

enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = repoRoot.appendingPathComponent("Tests/Fixtures/golden")
    static let modelDir = repoRoot.appendingPathComponent("checkpoints/all-MiniLM-L6-v2")
    /// True when `checkpoints/fetch_model.sh` has run (the test command runs it first).
    static let hasModel = FileManager.default.fileExists(atPath: modelDir.appendingPathComponent("model.safetensors").path)

    static func npy(_ name: String) throws -> NpyArray { try NpyFile.read(golden.appendingPathComponent(name).path) }
}
