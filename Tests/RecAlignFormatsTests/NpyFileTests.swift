// NpyFileTests: .npy writer byte-exact with numpy.save (fixtures from Scripts/make_formats_fixtures.py), reader, errors.
import Foundation
import Testing
import RecAlignFormats

@Suite struct NpyFileTests {
    @Test func headerHandWritten() {
        // numpy 2.x: dict, 21 - len("2") = 20 spare spaces, padding to 64 bytes, '\n'.
        let h = NpyFile.header(dtype: .float32, shape: [2, 3])
        #expect(h.count == 128)
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        let want: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(dict.utf8)
            + [UInt8](repeating: 0x20, count: 128 - 10 - dict.utf8.count - 1) + [0x0A]
        #expect(h == want)
    }

    @Test func writerMatchesNumpyBytes() throws {
        let f = (0 ..< 6).map { Float($0) * 0.5 - 1 }
        #expect(try f.withUnsafeBufferPointer { try NpyFile.encode(floats: $0, shape: [2, 3]) } == (try Fixtures.data("f32_2x3.npy")))
        #expect(try NpyFile.encode(int32s: [-2, -1, 0, 1, .max], shape: [5]) == (try Fixtures.data("i32_5.npy")))
        #expect(try NpyFile.encode(int64s: (0 ..< 8).map { Int64($0) * 1_000_000_000_000 - 3 }, shape: [2, 2, 2])
                == (try Fixtures.data("i64_2x2x2.npy")))
        #expect(try [Float(3.5)].withUnsafeBufferPointer { try NpyFile.encode(floats: $0, shape: []) } == (try Fixtures.data("f32_scalar.npy")))
        let shape = [Int](repeating: 1, count: 13) + [100]
        let pad64 = try (0 ..< 100).map { Float($0) / 4 }.withUnsafeBufferPointer { try NpyFile.encode(floats: $0, shape: shape) }
        #expect(pad64 == (try Fixtures.data("f32_pad64.npy")))
        #expect(pad64.count == 192 + 400)   // a full 64 bytes of padding when the header is already aligned
    }

    @Test func readerAndRoundTrip() throws {
        let a = try NpyFile.read(Fixtures.path("i64_2x2x2.npy"))
        #expect(a.shape == [2, 2, 2] && a.dtype == .int64 && a.int64s?[7] == 7_000_000_000_000 - 3)
        let s = try NpyFile.read(Fixtures.path("f32_scalar.npy"))
        #expect(s.shape == [] && s.floats == [3.5])
        let dir = try scratchDir()
        let p = (dir as NSString).appendingPathComponent("x.npy")
        try NpyFile.write(floats: [1, 2, 3, 4, 5, 6], shape: [3, 2], to: p)
        let r = try NpyFile.read(p)
        #expect(r.shape == [3, 2] && r.floats == [1, 2, 3, 4, 5, 6] && r.int64s == nil)
        try NpyFile.write(int32s: [9, -9], shape: [2], to: p)
        #expect(try NpyFile.read(p).values == .int32([9, -9]))
        try FileManager.default.removeItem(atPath: dir)
    }

    @Test func errors() throws {
        let e1 = #expect(throws: FormatError.self) { try NpyFile.encode(int32s: [1, 2, 3], shape: [2, 2]) }
        #expect(e1?.kind == .invalidArgument)
        var good = try Fixtures.data("f32_2x3.npy")
        good.removeLast(4)
        let e2 = #expect(throws: FormatError.self) { try NpyFile.decode(good, file: "t.npy") }
        #expect(e2?.kind == .malformedFile && e2?.description.hasPrefix("t.npy: shape [2, 3]") == true)
        var f = [UInt8](try Fixtures.data("f32_2x3.npy"))   // same header with fortran_order True
        let r = f.firstRange(of: Array("False".utf8))!
        f.replaceSubrange(r, with: Array("True ".utf8))
        let e3 = #expect(throws: FormatError.self) { try NpyFile.decode(Data(f), file: "t.npy") }
        #expect(e3?.kind == .unsupported && e3?.field == "fortran_order")
        let e4 = #expect(throws: FormatError.self) { try NpyFile.decode(Data("hello world".utf8), file: "t.npy") }
        #expect(e4?.kind == .malformedFile)
    }
}
