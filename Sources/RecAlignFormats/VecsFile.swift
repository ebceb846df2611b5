// VecsFile: TEXMEX / Faiss .fvecs and .ivecs (per vector: int32 dim, then dim values; little-endian).
import Foundation

/// A row-major matrix read from a .fvecs / .ivecs file.
public struct VecsMatrix<Element: Equatable & Sendable>: Equatable, Sendable {
    public var rows: Int
    public var dim: Int
    /// rows x dim values, row-major.
    public var values: [Element]
    public init(rows: Int, dim: Int, values: [Element]) { self.rows = rows; self.dim = dim; self.values = values }
}

/// .fvecs (float32) and .ivecs (int32) readers and writers. Every vector has the same dimension.
public enum VecsFile {
    /// File image of a row-major `rows x dim` float matrix in .fvecs layout.
    public static func encodeFvecs(_ values: UnsafeBufferPointer<Float>, rows: Int, dim: Int) throws -> Data {
        try encode(UnsafeRawBufferPointer(values), count: values.count, rows: rows, dim: dim)
    }

    /// File image of a row-major `rows x dim` Int32 matrix in .ivecs layout.
    public static func encodeIvecs(_ values: [Int32], rows: Int, dim: Int) throws -> Data {
        try values.withUnsafeBytes { try encode($0, count: values.count, rows: rows, dim: dim) }
    }

    private static func encode(_ raw: UnsafeRawBufferPointer, count: Int, rows: Int, dim: Int) throws -> Data {
        guard rows >= 0, dim >= 0, dim <= Int(Int32.max), rows * dim == count else {
            throw FormatError(.invalidArgument, file: "<vecs writer>", "\(count) values do not form \(rows) x \(dim)")
        }
        var d = Data(capacity: rows * (4 + 4 * dim))
        var dimLE = Int32(dim).littleEndian
        for r in 0 ..< rows {
            withUnsafeBytes(of: &dimLE) { d.append(contentsOf: $0) }
            d.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[(4 * r * dim) ..< (4 * (r + 1) * dim)]))
        }
        return d
    }

    /// Writes a row-major float matrix as .fvecs atomically.
    public static func writeFvecs(_ values: [Float], rows: Int, dim: Int, to path: String) throws {
        try values.withUnsafeBufferPointer { try AtomicFile.write(encodeFvecs($0, rows: rows, dim: dim), to: path) }
    }

    /// Writes a row-major float matrix (buffer) as .fvecs atomically.
    public static func writeFvecs(_ values: UnsafeBufferPointer<Float>, rows: Int, dim: Int, to path: String) throws {
        try AtomicFile.write(encodeFvecs(values, rows: rows, dim: dim), to: path)
    }

    /// Writes a row-major Int32 matrix as .ivecs atomically.
    public static func writeIvecs(_ values: [Int32], rows: Int, dim: Int, to path: String) throws {
        try AtomicFile.write(encodeIvecs(values, rows: rows, dim: dim), to: path)
    }

    /// Reads a .fvecs file.
    public static func readFvecs(_ path: String) throws -> VecsMatrix<Float> {
        let (rows, dim, bits) = try read(path)
        return VecsMatrix(rows: rows, dim: dim, values: bits.map { Float(bitPattern: $0) })
    }

    /// Reads a .ivecs file.
    public static func readIvecs(_ path: String) throws -> VecsMatrix<Int32> {
        let (rows, dim, bits) = try read(path)
        return VecsMatrix(rows: rows, dim: dim, values: bits.map { Int32(bitPattern: $0) })
    }

    /// Parses a vecs file image into (rows, dim, raw 32-bit words); `file` names the source in errors.
    public static func decode(_ data: Data, file: String) throws -> (rows: Int, dim: Int, words: [UInt32]) {
        if data.isEmpty { return (0, 0, []) }
        return try data.withUnsafeBytes { raw -> (Int, Int, [UInt32]) in
            guard raw.count >= 4 else {
                throw FormatError(.malformedFile, file: file, field: "vector 0", "file is \(raw.count) bytes, too short for a dimension")
            }
            let dim = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: Int32.self)))
            guard dim > 0 else { throw FormatError(.malformedFile, file: file, field: "vector 0", "dimension \(dim) is not positive") }
            let record = 4 + 4 * dim
            guard raw.count % record == 0 else {
                throw FormatError(.malformedFile, file: file,
                                  "size \(raw.count) is not a multiple of the record size \(record) (dimension \(dim))")
            }
            let rows = raw.count / record
            var out = [UInt32](); out.reserveCapacity(rows * dim)
            for r in 0 ..< rows {
                let base = r * record
                let d = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: Int32.self)))
                guard d == dim else {
                    throw FormatError(.malformedFile, file: file, field: "vector \(r)", "dimension \(d) differs from the first vector's \(dim)")
                }
                for k in 0 ..< dim { out.append(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 + 4 * k, as: UInt32.self))) }
            }
            return (rows, dim, out)
        }
    }

    private static func read(_ path: String) throws -> (Int, Int, [UInt32]) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FormatError(.cannotRead, file: path, "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: path)
    }
}
