// JSONValue: a typed JSON tree (parse with integer fidelity, serialise with sorted keys) shared by the format readers.
import Foundation

/// A JSON value. Integers that fit in Int64 stay `.int`, other numbers are `.double`.
public enum JSONValue: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONValue].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    /// Parses UTF-8 JSON text. Throws `JSONValueError.malformed` with the parser's reason.
    public static func parse(_ data: Data) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch let DecodingError.dataCorrupted(ctx) {
            let under = ctx.underlyingError.map { " (\($0))" } ?? ""
            throw JSONValueError.malformed(reason: ctx.debugDescription + under)
        } catch {
            throw JSONValueError.malformed(reason: "\(error)")
        }
    }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Integer value if this is an integer (or a float with an exact integer value).
    public var intValue: Int64? {
        switch self {
        case let .int(i): return i
        case let .double(d):
            if d.rounded() == d, abs(d) < 9.0e15 { return Int64(d) }
            return nil
        default: return nil
        }
    }

    /// Numeric value of an integer or a float.
    public var doubleValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var objectValue: [String: JSONValue]? { if case let .object(o) = self { return o }; return nil }

    /// Serialises with keys sorted (by UTF-8 bytes). `indent` > 0 pretty-prints with that many spaces.
    public func serialized(indent: Int = 2) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int, level: Int) {
        let pretty = indent > 0
        let pad = { (lvl: Int) -> String in String(repeating: " ", count: lvl * indent) }
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += JSONValue.format(d)
        case let .string(s): out += JSONValue.quote(s)
        case let .array(a):
            if a.isEmpty { out += "[]"; return }
            out += "["
            for (k, v) in a.enumerated() {
                if k > 0 { out += "," }
                if pretty { out += "\n" + pad(level + 1) }
                v.write(into: &out, indent: indent, level: level + 1)
            }
            if pretty { out += "\n" + pad(level) }
            out += "]"
        case let .object(o):
            if o.isEmpty { out += "{}"; return }
            out += "{"
            for (k, key) in JSONValue.sortedKeys(o.keys).enumerated() {
                if k > 0 { out += "," }
                if pretty { out += "\n" + pad(level + 1) }
                out += JSONValue.quote(key) + (pretty ? ": " : ":")
                o[key]!.write(into: &out, indent: indent, level: level + 1)
            }
            if pretty { out += "\n" + pad(level) }
            out += "}"
        }
    }

    /// Serialises an object whose keys keep the given order (Python's `json.dump(d, indent=2)` layout).
    public static func serializedOrdered(_ pairs: [(String, JSONValue)], indent: Int = 2) -> String {
        if pairs.isEmpty { return "{}" }
        let pad = String(repeating: " ", count: indent)
        let body = pairs.map { k, v -> String in
            let text = v.serialized(indent: indent).replacingOccurrences(of: "\n", with: "\n" + pad)
            return pad + quote(k) + ": " + text
        }
        return "{\n" + body.joined(separator: ",\n") + "\n}"
    }

    /// Keys in byte order (what Python's `sort_keys=True` gives for ASCII keys).
    static func sortedKeys<S: Sequence>(_ keys: S) -> [String] where S.Element == String {
        keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The Foundation object `JSONSerialization` writes for this value (integers as Int, other numbers as Double).
    public var foundation: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return b
        case let .int(i): return Int(i)
        case let .double(d): return d
        case let .string(s): return s
        case let .array(a): return a.map(\.foundation)
        case let .object(o): return o.mapValues(\.foundation)
        }
    }

    /// A JSON number text for a finite double (shortest round-trip form); non-finite values become null.
    static func format(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) + ".0" }
        return "\(d)"
    }

    /// A JSON string literal with the required escapes.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// Malformed JSON text.
public enum JSONValueError: Error, CustomStringConvertible {
    case malformed(reason: String)
    public var description: String {
        switch self { case let .malformed(reason): return "malformed JSON: \(reason)" }
    }
}
