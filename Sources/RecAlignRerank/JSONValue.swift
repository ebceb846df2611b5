// JSONValue: a Sendable JSON value, for request fields given on the command line (--extra-body).
import Foundation

/// A JSON value (for `extraBody`), Sendable and decodable from text.
public enum JSONValue: Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    /// Parses a JSON object's text, e.g. `{"repeat_penalty": 1.3}`.
    public static func object(from text: String) throws -> [String: JSONValue] {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let d = obj as? [String: Any] else {
            throw ChatClientError.badResponse("not a JSON object: \(text)")
        }
        return d.mapValues(JSONValue.init(any:))
    }

    init(any: Any) {
        switch any {
        case let n as NSNumber:
            #if canImport(Darwin)
            self = CFGetTypeID(n) == CFBooleanGetTypeID() ? .bool(n.boolValue) : .number(n.doubleValue)
            #else
            self = String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
            #endif
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(a.map(JSONValue.init(any:)))
        case let d as [String: Any]: self = .object(d.mapValues(JSONValue.init(any:)))
        default: self = .null
        }
    }

    /// The Foundation object JSONSerialization writes.
    var foundation: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return b
        case let .number(d): return d == d.rounded() && abs(d) < 1e15 ? Int(d) as Any : d as Any
        case let .string(s): return s
        case let .array(a): return a.map(\.foundation)
        case let .object(o): return o.mapValues(\.foundation)
        }
    }
}
