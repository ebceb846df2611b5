// SafeTensorsFile: a read-only mmap of a .safetensors file with a fully validated header and Float accessors.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `.safetensors` file mapped read-only. The mapping lives as long as the object.
/// Opening validates the whole header (see `SafeTensorsError.Kind`); accessors then never read out of bounds.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The path as given.
    public let path: String
    /// Tensor names in file order (by data offset, then name).
    public let names: [String]
    /// The optional `__metadata__` table.
    public let metadata: [String: String]
    /// Byte offset of the data section in the file (8 + header length).
    public let dataOffset: Int
    /// Size of the data section in bytes.
    public let dataSize: Int

    private let infos: [String: TensorInfo]
    private let base: UnsafeMutableRawPointer?   // nil only for an empty mapping (never, file >= 8 bytes)
    private let mappedSize: Int

    /// Maps and validates `path`. Throws `SafeTensorsError` for every malformed header.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            throw SafeTensorsError(.cannotOpen, file: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            throw SafeTensorsError(.cannotOpen, file: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        let size = Int(st.st_size)
        if size < 8 {
            throw SafeTensorsError(.truncatedFile, file: path,
                                   "file is \(size) bytes, shorter than the 8-byte header length")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw SafeTensorsError(.cannotOpen, file: path, "cannot mmap: \(String(cString: strerror(errno)))")
        }
        base = p
        mappedSize = size
        do {
            let parsed = try SafeTensorsFile.parseHeader(UnsafeRawBufferPointer(start: p, count: size), file: path)
            names = parsed.names; infos = parsed.infos; metadata = parsed.metadata
            dataOffset = parsed.dataOffset; dataSize = size - parsed.dataOffset
        } catch {
            munmap(p, size)
            throw error
        }
    }

    deinit {
        if let b = base { munmap(b, mappedSize) }
    }

    /// Shape, dtype and byte range of `name`, or nil if absent.
    public func info(_ name: String) -> TensorInfo? { infos[name] }

    /// Elements of every tensor in the file (each bounded by the file's size at parse time).
    public var elementCount: Int { infos.values.reduce(0) { $0 + $1.count } }

    /// True if the file holds `name`.
    public func contains(_ name: String) -> Bool { infos[name] != nil }

    /// Shape, dtype and byte range of `name`; throws `.unknownTensor` if absent.
    public func requireInfo(_ name: String) throws -> TensorInfo {
        guard let i = infos[name] else {
            throw SafeTensorsError(.unknownTensor, file: path, tensor: name, "no such tensor in the file")
        }
        return i
    }

    /// Calls `body` with the tensor's raw little-endian bytes (valid only inside `body`).
    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let i = try requireInfo(name)
        return try body(rawBytes(i))
    }

    private func rawBytes(_ i: TensorInfo) -> UnsafeRawBufferPointer {
        guard let b = base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(b) + dataOffset + i.byteRange.lowerBound,
                                      count: i.byteRange.count)
    }

    /// The tensor as Float32 values (C order): F32 copied, F16 / BF16 widened, F64 narrowed. `finite`: as in
    /// `copyFloats`.
    public func floats(_ name: String, finite: Bool = true) throws -> [Float] {
        let i = try requireInfo(name)
        try checkFloat(i, name)
        let n = i.count
        return try [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            try copyFloats(name, into: buf, finite: finite)
            initialized = n
        }
    }

    /// Writes the tensor as Float32 into `dst`, whose count must equal the element count. With `finite` (the
    /// default, for every weight, adapter, head and training state) a NaN or infinity is refused: it would
    /// otherwise surface as silent NaN embeddings or a diverged run. One pass over the copy; the error names
    /// the tensor and the first bad element.
    public func copyFloats(_ name: String, into dst: UnsafeMutableBufferPointer<Float>, finite: Bool = true) throws {
        try copyFloatsUnchecked(name, into: dst)
        if finite, let k = VectorScan.firstNonFinite(UnsafeBufferPointer(dst)) {
            let i = try requireInfo(name)
            let at = i.shape.count >= 2 ? "row \(k / (i.count / i.shape[0])), element \(k)" : "element \(k)"
            throw SafeTensorsError(.nonFinite, file: path, tensor: name, "holds a non-finite value (\(dst[k])) at \(at)")
        }
    }

    private func copyFloatsUnchecked(_ name: String, into dst: UnsafeMutableBufferPointer<Float>) throws {
        let i = try requireInfo(name)
        try checkFloat(i, name)
        let n = i.count
        guard dst.count == n else {
            throw SafeTensorsError(.countMismatch, file: path, tensor: name,
                                   "destination holds \(dst.count) floats but shape \(i.shape) has \(n)")
        }
        guard n > 0, let d = dst.baseAddress else { return }
        let src = rawBytes(i)
        guard let s = src.baseAddress else { return }
        switch i.dtype {
        case .f32:
            memcpy(d, s, n * 4)
            #if _endian(big)
            for k in 0 ..< n { d[k] = Float(bitPattern: UInt32(littleEndian: d[k].bitPattern)) }
            #endif
        case .f16: HalfWidening.widenF16(s, count: n, into: d)
        case .bf16: HalfWidening.widenBF16(s, count: n, into: d)
        case .f64:
            for k in 0 ..< n {
                d[k] = Float(Double(bitPattern: UInt64(littleEndian: s.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))))
            }
        default: break   // excluded by checkFloat
        }
    }

    /// The tensor as Int64 values: I64 copied; I32, I8, U8 and BOOL widened.
    public func int64s(_ name: String) throws -> [Int64] {
        let i = try requireInfo(name)
        let n = i.count
        let s = rawBytes(i)
        switch i.dtype {
        case .i64: return (0 ..< n).map { Int64(littleEndian: s.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .i32: return (0 ..< n).map { Int64(Int32(littleEndian: s.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        case .i8: return (0 ..< n).map { Int64(Int8(bitPattern: s[$0])) }
        case .u8, .bool: return (0 ..< n).map { Int64(s[$0]) }
        default:
            throw SafeTensorsError(.wrongDType, file: path, tensor: name,
                                   "dtype \(i.dtype.rawValue) is not an integer type")
        }
    }

    private func checkFloat(_ i: TensorInfo, _ name: String) throws {
        if !i.dtype.isFloatingPoint {
            throw SafeTensorsError(.wrongDType, file: path, tensor: name,
                                   "dtype \(i.dtype.rawValue) cannot be read as floats")
        }
    }

    // MARK: header parsing

    struct Parsed {
        var names: [String]; var infos: [String: TensorInfo]; var metadata: [String: String]; var dataOffset: Int
    }

    /// Validates the header of a whole file image (`bytes`), naming `file` in errors.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, file: String) throws -> Parsed {
        let size = bytes.count
        guard size >= 8 else {
            throw SafeTensorsError(.truncatedFile, file: file, "file is \(size) bytes, shorter than the 8-byte header length")
        }
        let n64 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard n64 <= UInt64(size - 8) else {
            throw SafeTensorsError(.headerLengthPastEnd, file: file,
                                   "header length \(n64) runs past the end of the file (\(size - 8) bytes after the length)")
        }
        let n = Int(n64)
        let headerData = Data(bytes[8 ..< 8 + n])
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerData)
        } catch {
            throw SafeTensorsError(.badJSON, file: file, "header (\(n) bytes) is not valid JSON: \(error)")
        }
        guard let obj = json.objectValue else {
            throw SafeTensorsError(.headerNotObject, file: file, "header JSON is \(json.typeName), not an object")
        }
        let dataSize = size - 8 - n
        var metadata: [String: String] = [:]
        var infos: [String: TensorInfo] = [:]
        for (name, entry) in obj {
            if name == "__metadata__" {
                guard let m = entry.objectValue else {
                    throw SafeTensorsError(.badMetadata, file: file, "__metadata__ is \(entry.typeName), not an object")
                }
                for (k, v) in m {
                    guard let s = v.stringValue else {
                        throw SafeTensorsError(.badMetadata, file: file,
                                               "__metadata__ key '\(k)' is \(v.typeName), not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            infos[name] = try parseEntry(name, entry, dataSize: dataSize, file: file)
        }
        // Overlap check: sort by begin; each non-empty tensor must start at or after the previous end.
        let order = infos.keys.sorted { a, b in
            let ra = infos[a]!.byteRange, rb = infos[b]!.byteRange
            if ra.lowerBound != rb.lowerBound { return ra.lowerBound < rb.lowerBound }
            if ra.upperBound != rb.upperBound { return ra.upperBound < rb.upperBound }
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        var prevEnd = 0
        var prevName: String?
        for name in order {
            let r = infos[name]!.byteRange
            if r.isEmpty { continue }
            if let p = prevName, r.lowerBound < prevEnd {
                let pr = infos[p]!.byteRange
                throw SafeTensorsError(.overlappingTensors, file: file, tensor: name,
                                       "data_offsets [\(r.lowerBound), \(r.upperBound)] overlap tensor '\(p)' [\(pr.lowerBound), \(pr.upperBound)]")
            }
            prevEnd = r.upperBound
            prevName = name
        }
        return Parsed(names: order, infos: infos, metadata: metadata, dataOffset: 8 + n)
    }

    private static func parseEntry(_ name: String, _ entry: JSONValue, dataSize: Int, file: String) throws -> TensorInfo {
        guard let e = entry.objectValue else {
            throw SafeTensorsError(.badEntry, file: file, tensor: name, "entry is \(entry.typeName), not an object")
        }
        for key in ["dtype", "shape", "data_offsets"] where e[key] == nil {
            throw SafeTensorsError(.badEntry, file: file, tensor: name, "missing field '\(key)'")
        }
        guard let dtypeText = e["dtype"]?.stringValue else {
            throw SafeTensorsError(.badEntry, file: file, tensor: name, "dtype is \(e["dtype"]!.typeName), not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeText) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw SafeTensorsError(.unknownDType, file: file, tensor: name,
                                   "unknown dtype '\(dtypeText)' (known: \(known))")
        }
        guard let shapeArr = e["shape"]?.arrayValue else {
            throw SafeTensorsError(.badShape, file: file, tensor: name, "shape is \(e["shape"]!.typeName), not a list")
        }
        var shape: [Int] = []
        var count = 1
        for (k, d) in shapeArr.enumerated() {
            guard case let .int(v) = d, v >= 0 else {
                throw SafeTensorsError(.badShape, file: file, tensor: name,
                                       "shape dimension \(k) is \(d.serialized(indent: 0)), not a non-negative integer")
            }
            let (p, over) = count.multipliedReportingOverflow(by: Int(v))
            if over || p > Int(Int32.max) * 1024 {
                throw SafeTensorsError(.badShape, file: file, tensor: name, "shape \(shapeArr.map { $0.serialized(indent: 0) }) has too many elements")
            }
            count = p
            shape.append(Int(v))
        }
        guard let offs = e["data_offsets"]?.arrayValue, offs.count == 2,
              case let .int(b64) = offs[0], case let .int(e64) = offs[1], b64 >= 0, e64 >= 0 else {
            throw SafeTensorsError(.badOffsets, file: file, tensor: name,
                                   "data_offsets \(e["data_offsets"]!.serialized(indent: 0)) is not a pair of non-negative integers")
        }
        guard b64 <= e64 else {
            throw SafeTensorsError(.badOffsets, file: file, tensor: name,
                                   "data_offsets [\(b64), \(e64)] begin after they end")
        }
        guard e64 <= Int64(dataSize) else {
            throw SafeTensorsError(.offsetsPastEnd, file: file, tensor: name,
                                   "data_offsets [\(b64), \(e64)] run past the end of the data (\(dataSize) bytes)")
        }
        let begin = Int(b64), end = Int(e64)
        let expected = count * dtype.size
        guard end - begin == expected else {
            throw SafeTensorsError(.byteCountMismatch, file: file, tensor: name,
                                   "data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(shape) x \(dtype.rawValue) needs \(expected)")
        }
        return TensorInfo(dtype: dtype, shape: shape, byteRange: begin ..< end)
    }
}
