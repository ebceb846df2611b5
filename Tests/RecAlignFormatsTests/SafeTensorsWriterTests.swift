// SafeTensorsWriterTests: byte-exact with Python's safetensors for F32 files, round trips, and writer errors.
import Foundation
import Testing
import RecAlignFormats

@Suite struct SafeTensorsWriterTests {
    @Test func matchesPythonBytes() throws {
        var w = SafeTensorsWriter()
        try w.add("b.weight", shape: [2, 3], floats: (0 ..< 6).map { Float($0) / 8 - 0.25 })
        try w.add("a.bias", shape: [3], floats: [0.5, -1.25, 3.0])
        #expect(w.encoded() == (try Fixtures.data("python_f32.safetensors")))
    }

    @Test func headerLayout() throws {
        var w = SafeTensorsWriter()
        try w.add("x", shape: [1], floats: [1])
        let d = w.encoded()
        let n = Int(d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(n % 8 == 0)
        let header = String(decoding: d[8 ..< 8 + n], as: UTF8.self)
        let json = #"{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        #expect(n - json.utf8.count < 8)
        #expect(header == json + String(repeating: " ", count: n - json.utf8.count))
        #expect(d.count == 8 + n + 4)
    }

    @Test func roundTripThroughReader() throws {
        let dir = try scratchDir()
        let p = (dir as NSString).appendingPathComponent("rt.safetensors")
        var w = SafeTensorsWriter(metadata: ["format": "pt", "recalign": "test \"quoted\""])
        let big = (0 ..< 1000).map { Float($0) * 0.001 - 0.5 }
        try big.withUnsafeBufferPointer { try w.add("z.big", shape: [10, 100], buffer: $0) }
        try w.add("a.pos", shape: [1, 4], int64s: [0, 1, 2, -3])
        try w.add("m.empty", shape: [0], floats: [])
        try w.add("é.unicode", shape: [], floats: [42])
        try w.write(to: p)
        let f = try SafeTensorsFile(path: p)
        #expect(f.names == ["a.pos", "m.empty", "z.big", "é.unicode"])
        #expect(f.metadata["recalign"] == "test \"quoted\"")
        #expect(try f.floats("z.big") == big)
        #expect(try f.int64s("a.pos") == [0, 1, 2, -3])
        #expect(try f.floats("é.unicode") == [42])
        #expect(try f.requireInfo("é.unicode").shape == [])
        // No temp files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["rt.safetensors"])
        try FileManager.default.removeItem(atPath: dir)
    }

    @Test func rejectsInconsistentTensors() throws {
        var w = SafeTensorsWriter()
        try w.add("a", shape: [2], floats: [1, 2])
        let e1 = #expect(throws: SafeTensorsError.self) { try w.add("a", shape: [2], floats: [1, 2]) }
        #expect(e1?.kind == .invalidTensor && e1?.detail == "added twice")
        let e2 = #expect(throws: SafeTensorsError.self) { try w.add("b", shape: [2, 2], floats: [1, 2]) }
        #expect(e2?.description.contains("shape [2, 2] has 4 elements but 2 values") == true)
        let e3 = #expect(throws: SafeTensorsError.self) { try w.add("__metadata__", shape: [1], floats: [1]) }
        #expect(e3?.kind == .invalidTensor)
    }

    /// Leaves a file for `Scripts/check_roundtrip.py --safetensors` (Python loads it and checks every value).
    @Test func writesFileForPythonCheck() throws {
        let p = (NSTemporaryDirectory() as NSString).appendingPathComponent("recalign-fmt-check/swift_written.safetensors")
        var w = SafeTensorsWriter()
        try w.add("encoder.layer.0.weight", shape: [3, 5], floats: (0 ..< 15).map { Float($0) / 4 - 1 })
        try w.add("embeddings.position_ids", shape: [1, 4], int64s: [0, 1, 2, 3])
        try w.add("pooler.bias", shape: [7], floats: (0 ..< 7).map { Float($0) * 3 })
        try w.write(to: p)
        #expect(try SafeTensorsFile(path: p).names.count == 3)
    }
}
