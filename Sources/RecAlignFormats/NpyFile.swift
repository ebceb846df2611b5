// NpyFile: NumPy .npy read / write (float32, int32, int64; little-endian, C order), byte-exact with numpy.save.
import Foundation

/// Element types RecAlign reads and writes in .npy files.
public enum NpyDType: String, Sendable {
    case float32 = "<f4", int32 = "<i4", int64 = "<i8"
    public var size: Int { self == .int64 ? 8 : 4 }
}

/// An array read from a .npy file (C order).
public struct NpyArray: Equatable, Sendable {
    public enum Values: Equatable, Sendable { case float32([Float]), int32([Int32]), int64([Int64]) }
    public var shape: [Int]
    public var values: Values
    public init(shape: [Int], values: Values) { self.shape = shape; self.values = values }
    public var dtype: NpyDType {
        switch values { case .float32: return .float32; case .int32: return .int32; case .int64: return .int64 }
    }
    /// Float values, or nil if the array is integer.
    public var floats: [Float]? { if case let .float32(v) = values { return v }; return nil }
    /// Integer values widened to Int64, or nil if the array is float.
    public var int64s: [Int64]? {
        switch values {
        case .float32: return nil
        case let .int32(v): return v.map(Int64.init)
        case let .int64(v): return v
        }
    }
}

/// `.npy` encoding: magic, version 1.0, header dict padded with spaces and '\n' so that the data starts
/// on a 64-byte boundary, as numpy >= 1.24 writes it (including its spare space after the first dimension).
public enum NpyFile {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // "\x93NUMPY"

    /// The header bytes (magic .. '\n') numpy writes for this dtype and shape.
    public static func header(dtype: NpyDType, shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // numpy reserves room to grow the first axis up to 21 digits in place.
        if let first = shape.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let unpadded = magic.count + 2 + 2 + dict.utf8.count + 1
        let pad = 64 - unpadded % 64                  // numpy pads a full 64 when already aligned
        dict += String(repeating: " ", count: pad) + "\n"
        let hlen = UInt16(dict.utf8.count)
        return magic + [1, 0, UInt8(hlen & 0xFF), UInt8(hlen >> 8)] + Array(dict.utf8)
    }

    /// A complete .npy file image of float32 values.
    public static func encode(floats: UnsafeBufferPointer<Float>, shape: [Int]) throws -> Data {
        try check(count: floats.count, shape: shape)
        return encode(header(dtype: .float32, shape: shape), UnsafeRawBufferPointer(floats))
    }

    /// A complete .npy file image of int32 values.
    public static func encode(int32s: [Int32], shape: [Int]) throws -> Data {
        try check(count: int32s.count, shape: shape)
        return int32s.withUnsafeBytes { encode(header(dtype: .int32, shape: shape), $0) }
    }

    /// A complete .npy file image of int64 values.
    public static func encode(int64s: [Int64], shape: [Int]) throws -> Data {
        try check(count: int64s.count, shape: shape)
        return int64s.withUnsafeBytes { encode(header(dtype: .int64, shape: shape), $0) }
    }

    private static func encode(_ header: [UInt8], _ body: UnsafeRawBufferPointer) -> Data {
        var d = Data(capacity: header.count + body.count)
        d.append(contentsOf: header)
        d.append(contentsOf: body)   // little-endian host (x86_64 / arm64)
        return d
    }

    private static func check(count: Int, shape: [Int]) throws {
        if shape.contains(where: { $0 < 0 }) || shape.reduce(1, *) != count {
            throw FormatError(.invalidArgument, file: "<npy writer>", "shape \(shape) does not hold \(count) values")
        }
    }

    /// Writes float32 values (C order) to `path` atomically.
    public static func write(floats: [Float], shape: [Int], to path: String) throws {
        try floats.withUnsafeBufferPointer { try AtomicFile.write(encode(floats: $0, shape: shape), to: path) }
    }
    /// Writes float32 values from a buffer (C order) to `path` atomically.
    public static func write(floats: UnsafeBufferPointer<Float>, shape: [Int], to path: String) throws {
        try AtomicFile.write(encode(floats: floats, shape: shape), to: path)
    }
    /// Writes int32 values to `path` atomically.
    public static func write(int32s: [Int32], shape: [Int], to path: String) throws {
        try AtomicFile.write(encode(int32s: int32s, shape: shape), to: path)
    }
    /// Writes int64 values to `path` atomically.
    public static func write(int64s: [Int64], shape: [Int], to path: String) throws {
        try AtomicFile.write(encode(int64s: int64s, shape: shape), to: path)
    }

    /// Reads a .npy file (versions 1.0 / 2.0 / 3.0; dtypes <f4, <i4, <i8; C order).
    public static func read(_ path: String) throws -> NpyArray {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FormatError(.cannotRead, file: path, "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, file: path)
    }

    /// Parses a .npy file image; `file` names the source in errors.
    public static func decode(_ data: Data, file: String) throws -> NpyArray {
        let bytes = [UInt8](data)
        func bad(_ why: String) -> FormatError { FormatError(.malformedFile, file: file, why) }
        guard bytes.count >= 10, Array(bytes[0 ..< 6]) == magic else { throw bad("not a .npy file (bad magic)") }
        let major = bytes[6]
        let headerStart: Int, hlen: Int
        switch major {
        case 1:
            headerStart = 10; hlen = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated header length") }
            headerStart = 12
            hlen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw FormatError(.unsupported, file: file, "npy format version \(major).\(bytes[7]) is not supported")
        }
        guard headerStart + hlen <= bytes.count else { throw bad("header length \(hlen) runs past the end of the file") }
        guard let text = String(bytes: bytes[headerStart ..< headerStart + hlen], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw bad("header is not text")
        }
        let descr = try field(text, "descr", file: file)
        guard let dtype = NpyDType(rawValue: unquote(descr)) else {
            throw FormatError(.unsupported, file: file, field: "descr", "dtype \(descr) is not supported (<f4, <i4, <i8 only)")
        }
        let fortran = try field(text, "fortran_order", file: file)
        guard fortran == "False" else {
            throw FormatError(.unsupported, file: file, field: "fortran_order", "only C-order arrays are supported")
        }
        let shapeText = try field(text, "shape", file: file)
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else {
                throw FormatError(.malformedFile, file: file, field: "shape", "bad dimension '\(t)' in \(shapeText)")
            }
            shape.append(v)
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            if o { throw FormatError(.malformedFile, file: file, field: "shape", "\(shapeText) overflows") }
            count = p
        }
        let dataStart = headerStart + hlen
        let (need, o2) = count.multipliedReportingOverflow(by: dtype.size)
        guard !o2, bytes.count - dataStart == need else {
            throw bad("shape \(shape) x \(dtype.rawValue) needs \(need) data bytes, file has \(bytes.count - dataStart)")
        }
        let values: NpyArray.Values = bytes.withUnsafeBytes { raw in
            let s = raw.baseAddress! + dataStart
            switch dtype {
            case .float32: return .float32((0 ..< count).map { Float(bitPattern: UInt32(littleEndian: s.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) })
            case .int32: return .int32((0 ..< count).map { Int32(littleEndian: s.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) })
            case .int64: return .int64((0 ..< count).map { Int64(littleEndian: s.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) })
            }
        }
        return NpyArray(shape: shape, values: values)
    }

    /// The raw value text of `'key': value` in a header dict (up to the next top-level comma or brace).
    private static func field(_ text: String, _ key: String, file: String) throws -> String {
        guard let r = text.range(of: "'\(key)':") else {
            throw FormatError(.malformedFile, file: file, field: key, "missing from the header \(text.debugDescription)")
        }
        var depth = 0
        var out = ""
        for ch in text[r.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if depth == 0 && (ch == "," || ch == "}") { break }
            out.append(ch)
            if depth < 0 { break }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    private static func unquote(_ s: String) -> String {
        s.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }
}
