// SafeTensorsWriter: collects named tensors and writes a .safetensors file Python's `safetensors` loads.
import Foundation

/// Builds a `.safetensors` file: header JSON with keys sorted, `__metadata__` (default `{"format": "pt"}`),
/// data offsets contiguous in key order, header padded with spaces to a multiple of 8 bytes.
public struct SafeTensorsWriter {
    private struct Entry { var dtype: SafeTensorsDType; var shape: [Int]; var bytes: Data }
    private var entries: [String: Entry] = [:]
    /// String metadata stored under `__metadata__`.
    public var metadata: [String: String]

    public init(metadata: [String: String] = ["format": "pt"]) {
        self.metadata = metadata
    }

    /// Names added so far, in the order they will be written (sorted by UTF-8 bytes).
    public var names: [String] { JSONValue.sortedKeys(entries.keys) }

    /// Adds an F32 tensor. `values.count` must equal the product of `shape`.
    public mutating func add(_ name: String, shape: [Int], floats values: [Float]) throws {
        try values.withUnsafeBufferPointer { try add(name, shape: shape, buffer: $0) }
    }

    /// Adds an F32 tensor copied from a buffer. `buffer.count` must equal the product of `shape`.
    public mutating func add(_ name: String, shape: [Int], buffer: UnsafeBufferPointer<Float>) throws {
        try check(name, shape: shape, count: buffer.count)
        var data = Data(count: buffer.count * 4)
        data.withUnsafeMutableBytes { raw in
            guard let d = raw.baseAddress, let s = buffer.baseAddress else { return }
            #if _endian(little)
            memcpy(d, s, buffer.count * 4)
            #else
            for k in 0 ..< buffer.count { d.storeBytes(of: s[k].bitPattern.littleEndian, toByteOffset: 4 * k, as: UInt32.self) }
            #endif
        }
        entries[name] = Entry(dtype: .f32, shape: shape, bytes: data)
    }

    /// Adds an I64 tensor (e.g. `embeddings.position_ids`).
    public mutating func add(_ name: String, shape: [Int], int64s values: [Int64]) throws {
        try check(name, shape: shape, count: values.count)
        var data = Data(count: values.count * 8)
        data.withUnsafeMutableBytes { raw in
            for (k, v) in values.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: 8 * k, as: Int64.self) }
        }
        entries[name] = Entry(dtype: .i64, shape: shape, bytes: data)
    }

    private func check(_ name: String, shape: [Int], count: Int) throws {
        let file = "<safetensors writer>"
        if name.isEmpty || name == "__metadata__" {
            throw SafeTensorsError(.invalidTensor, file: file, tensor: name, "reserved or empty tensor name")
        }
        if entries[name] != nil {
            throw SafeTensorsError(.invalidTensor, file: file, tensor: name, "added twice")
        }
        if shape.contains(where: { $0 < 0 }) {
            throw SafeTensorsError(.invalidTensor, file: file, tensor: name, "negative dimension in shape \(shape)")
        }
        let n = shape.reduce(1, *)
        if n != count {
            throw SafeTensorsError(.invalidTensor, file: file, tensor: name,
                                   "shape \(shape) has \(n) elements but \(count) values were given")
        }
    }

    /// The header JSON text (before padding).
    func headerJSON() -> String {
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = JSONValue.object(metadata.mapValues { .string($0) })
            parts.append("\"__metadata__\":" + m.serialized(indent: 0))
        }
        var offset = 0
        for name in names {
            let e = entries[name]!
            let end = offset + e.bytes.count
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append("\(JSONValue.quote(name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// The complete file image.
    public func encoded() -> Data {
        var header = Array(headerJSON().utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data(capacity: 8 + header.count + entries.values.reduce(0) { $0 + $1.bytes.count })
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for name in names { out.append(entries[name]!.bytes) }
        return out
    }

    /// Writes the file atomically (temp file + rename).
    public func write(to path: String) throws {
        try AtomicFile.write(encoded(), to: path)
    }
}
