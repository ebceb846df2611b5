// FormatError: errors of the JSON config / folder / array-file readers, each naming the file and the field or problem.
import Foundation

/// A problem in a config file, a model folder, or an array file (.npy, .fvecs, .ivecs, ids).
public struct FormatError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Equatable, Sendable {
        case cannotRead      // file missing or unreadable
        case malformedJSON   // not JSON
        case notAnObject     // JSON root (or a required sub-structure) of the wrong shape
        case wrongType       // a key holds a value of the wrong JSON type
        case badValue        // a key holds a value of the right type but out of range
        case malformedFile   // binary / text layout broken (npy header, vecs record, ...)
        case unsupported     // well-formed but a variant this reader does not handle
        case invalidArgument // writer given inconsistent data
    }
    public let kind: Kind
    public let file: String
    /// The key / field / record concerned, if any.
    public let field: String?
    public let detail: String

    public init(_ kind: Kind, file: String, field: String? = nil, _ detail: String) {
        self.kind = kind; self.file = file; self.field = field; self.detail = detail
    }

    public var description: String {
        if let f = field { return "\(file): \(f): \(detail)" }
        return "\(file): \(detail)"
    }
}

/// Reads and parses a JSON file into an object, with errors naming the file.
enum JSONFile {
    static func readObject(_ path: String) throws -> [String: JSONValue] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FormatError(.cannotRead, file: path, "cannot read: \(error.localizedDescription)")
        }
        return try parseObject(data, file: path)
    }

    static func parseObject(_ data: Data, file: String) throws -> [String: JSONValue] {
        let v: JSONValue
        do { v = try JSONValue.parse(data) } catch {
            throw FormatError(.malformedJSON, file: file, "\(error)")
        }
        guard let o = v.objectValue else {
            throw FormatError(.notAnObject, file: file, "top level is \(v.typeName), expected an object")
        }
        return o
    }
}

/// Typed access to keys of a JSON object, with errors naming the file and key.
struct JSONFields {
    let object: [String: JSONValue]
    let file: String

    func int(_ key: String, default d: Int) throws -> Int {
        guard let v = object[key], v != .null else { return d }
        guard let i = v.intValue, let r = Int(exactly: i) else {
            throw FormatError(.wrongType, file: file, field: key, "expected an integer, found \(v.serialized(indent: 0))")
        }
        return r
    }
    func positiveInt(_ key: String, default d: Int) throws -> Int {
        let v = try int(key, default: d)
        if v <= 0 { throw FormatError(.badValue, file: file, field: key, "must be positive, found \(v)") }
        return v
    }
    func double(_ key: String, default d: Double) throws -> Double {
        guard let v = object[key], v != .null else { return d }
        guard let x = v.doubleValue else {
            throw FormatError(.wrongType, file: file, field: key, "expected a number, found \(v.serialized(indent: 0))")
        }
        return x
    }
    func string(_ key: String, default d: String) throws -> String {
        try optionalString(key) ?? d
    }
    func optionalString(_ key: String) throws -> String? {
        guard let v = object[key], v != .null else { return nil }
        guard let s = v.stringValue else {
            throw FormatError(.wrongType, file: file, field: key, "expected a string, found \(v.serialized(indent: 0))")
        }
        return s
    }
    func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = object[key], v != .null else { return d }
        guard let b = v.boolValue else {
            throw FormatError(.wrongType, file: file, field: key, "expected true or false, found \(v.serialized(indent: 0))")
        }
        return b
    }
    func stringList(_ key: String) throws -> [String]? {
        guard let v = object[key], v != .null else { return nil }
        guard let a = v.arrayValue else {
            throw FormatError(.wrongType, file: file, field: key, "expected a list of strings, found \(v.typeName)")
        }
        return try a.enumerated().map { k, e in
            guard let s = e.stringValue else {
                throw FormatError(.wrongType, file: file, field: "\(key)[\(k)]", "expected a string, found \(e.typeName)")
            }
            return s
        }
    }
}
