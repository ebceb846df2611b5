// VecsAndIdsTests: .fvecs / .ivecs byte-exact with the numpy-built fixtures, corrupt records, ids files.
import Foundation
import Testing
import RecAlignFormats

@Suite struct VecsAndIdsTests {
    let m: [Float] = (0 ..< 12).map { Float($0) - 5.5 }

    @Test func fvecsBytesAndRead() throws {
        let d = try m.withUnsafeBufferPointer { try VecsFile.encodeFvecs($0, rows: 3, dim: 4) }
        #expect(d == (try Fixtures.data("m_3x4.fvecs")))
        #expect(Array(d.prefix(8)) == [4, 0, 0, 0, 0x00, 0x00, 0xB0, 0xC0])   // dim 4, then -5.5f
        let r = try VecsFile.readFvecs(Fixtures.path("m_3x4.fvecs"))
        #expect(r.rows == 3 && r.dim == 4 && r.values == m)
    }

    @Test func ivecsBytesAndRead() throws {
        let v: [Int32] = (0 ..< 12).map { Int32($0) * -3 }
        #expect(try VecsFile.encodeIvecs(v, rows: 3, dim: 4) == (try Fixtures.data("m_3x4.ivecs")))
        let r = try VecsFile.readIvecs(Fixtures.path("m_3x4.ivecs"))
        #expect(r.rows == 3 && r.dim == 4 && r.values == v)
    }

    @Test func roundTripAndErrors() throws {
        let dir = try scratchDir()
        let p = (dir as NSString).appendingPathComponent("x.fvecs")
        try VecsFile.writeFvecs(m, rows: 2, dim: 6, to: p)
        #expect(try VecsFile.readFvecs(p) == VecsMatrix(rows: 2, dim: 6, values: m))
        let e1 = #expect(throws: FormatError.self) { try VecsFile.writeFvecs(m, rows: 5, dim: 2, to: p) }
        #expect(e1?.kind == .invalidArgument)
        var bytes = [UInt8](try Fixtures.data("m_3x4.fvecs"))
        bytes[20] = 5   // second record claims dimension 5 (same size file)
        let e2 = #expect(throws: FormatError.self) { try VecsFile.decode(Data(bytes), file: "v.fvecs") }
        #expect(e2?.field == "vector 1" && e2?.description == "v.fvecs: vector 1: dimension 5 differs from the first vector's 4")
        let e3 = #expect(throws: FormatError.self) { try VecsFile.decode(Data(bytes.prefix(30)), file: "v.fvecs") }
        #expect(e3?.kind == .malformedFile)
        #expect(try VecsFile.decode(Data(), file: "v").0 == 0)
        try FileManager.default.removeItem(atPath: dir)
    }

    @Test func idsFile() throws {
        let dir = try scratchDir()
        let p = (dir as NSString).appendingPathComponent("ids.txt")
        try IdsFile.write(["1", "42", "item é"], to: p)
        #expect(try String(contentsOfFile: p, encoding: .utf8) == "1\n42\nitem é\n")
        #expect(try IdsFile.read(p) == ["1", "42", "item é"])
        let e = #expect(throws: FormatError.self) { try IdsFile.write(["a", "b\nc"], to: p) }
        #expect(e?.field == "id 1")
        try "a\n\nb\n".write(toFile: p, atomically: false, encoding: .utf8)
        let e2 = #expect(throws: FormatError.self) { try IdsFile.read(p) }
        #expect(e2?.field == "line 2")
        try FileManager.default.removeItem(atPath: dir)
    }
}
