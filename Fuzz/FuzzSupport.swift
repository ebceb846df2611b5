// FuzzSupport: helpers shared by every fuzz target (a scratch folder, writing the input to a file).
import Foundation

/// A private scratch folder for this fuzzer process, created on first use.
let fuzzScratch: String = {
    let path = NSTemporaryDirectory() + "recalign-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

/// Writes `bytes` to `name` inside the scratch folder and returns its path (the readers under test take paths).
func writeScratch(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) -> String {
    let path = fuzzScratch + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(buffer: bytes))
    return path
}

/// Writes `text` to `name` inside the scratch folder and returns its path.
func writeScratch(_ name: String, _ text: String) -> String {
    let path = fuzzScratch + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

/// Removes `name` from the scratch folder if present.
func removeScratch(_ name: String) {
    unlink(fuzzScratch + "/" + name)
}
