// TestSupport: fixture paths, scratch folders and a raw safetensors image builder for the formats tests.
import Foundation
import RecAlignFormats
import RecAlignTestSupport

enum Fixtures {
    /// Tests/RecAlignFormatsTests/Fixtures
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    static func data(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(name))) }
    static let miniLM = path("all-MiniLM-L6-v2")
}

/// A fresh scratch folder under the system temp dir.
func scratchDir(_ tag: String = #function) throws -> String { TestPaths.tempDir("fmt-" + tag) }

/// A safetensors file image: 8-byte little-endian length of `header`, the header, then `dataBytes` bytes.
func safetensorsImage(header: String, dataBytes: Int, lengthOverride: UInt64? = nil) -> Data {
    let h = Array(header.utf8)
    var d = Data()
    withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { d.append(contentsOf: $0) }
    d.append(contentsOf: h)
    d.append(contentsOf: (0 ..< dataBytes).map { UInt8(truncatingIfNeeded: $0) })
    return d
}

/// Writes `image` to a scratch file named `name` and opens it, returning the thrown SafeTensorsError.
func openError(_ image: Data, name: String = "model.safetensors") throws -> SafeTensorsError? {
    let dir = try scratchDir(name)
    let p = (dir as NSString).appendingPathComponent(name)
    try image.write(to: URL(fileURLWithPath: p))
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
        _ = try SafeTensorsFile(path: p)
        return nil
    } catch let e as SafeTensorsError {
        return e
    }
}
