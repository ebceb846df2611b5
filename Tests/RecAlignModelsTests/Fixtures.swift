// Fixtures: paths of the committed golden fixtures and the downloaded reference model.
import Foundation
import RecAlignFormats
import RecAlignTestSupport

enum Fixtures {
    static let golden = TestPaths.fixtures.appendingPathComponent("golden")
    static let modelDir = URL(fileURLWithPath: TestPaths.modelDir)
    /// True when `checkpoints/fetch_model.sh` has run (the test command runs it first).
    static let hasModel = TestPaths.hasModel

    static func npy(_ name: String) throws -> NpyArray { try NpyFile.read(golden.appendingPathComponent(name).path) }
}
