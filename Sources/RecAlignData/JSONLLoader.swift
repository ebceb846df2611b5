// JSONLLoader: reads interactions (and optional item / user records) from JSON Lines files into a Dataset.
import Foundation

/// A JSON value as read from one JSONL field.
enum JSONValue: Decodable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// The value as a field string: numbers in their shortest form, arrays space-joined, null empty.
    var text: String {
        switch self {
        case .null: return ""
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case let .string(s): return s
        case let .array(a): return a.map(\.text).joined(separator: " ")
        case let .object(o): return o.keys.sorted().map { "\($0): \(o[$0]!.text)" }.joined(separator: " ")
        }
    }

    /// An id: a string or an integer.
    var id: String? {
        switch self {
        case let .string(s): return s
        case let .int(i): return String(i)
        default: return nil
        }
    }

    /// A timestamp: a number or a numeric string.
    var number: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d.isFinite ? d : nil
        case let .string(s): return parseTimestamp(Substring(s))
        default: return nil
        }
    }
}

/// Reader of JSON Lines corpora.
public enum JSONLLoader {
    /// Loads interactions from `interactions` (one object per line: `user_id`, `item_id` as string or
    /// integer, `timestamp` as number or numeric string, optional `rating` as a finite number, numeric string
    /// or null (missing), kept as `Dataset.ratings`; other keys ignored), item fields from `items`
    /// (one object per line with `item_id` and any other keys, e.g. `text`, `title`) and user fields from
    /// `users` (`user_id` + other keys). Field names are sorted alphabetically; values become strings
    /// (arrays joined with spaces).
    public static func load(interactions: String, items: String? = nil, users: String? = nil,
                            name: String? = nil, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let stem = ((interactions as NSString).lastPathComponent as NSString).deletingPathExtension
        var raw = RawCorpus(name: name ?? stem)
        raw.interactionsPath = interactions
        let decoder = JSONDecoder()
        for line in try TextLines(path: interactions).lines {
            guard let obj = parseObject(line.text, decoder, interactions, line.number, &raw.errors) else { continue }
            guard let user = requireId(obj, "user_id", interactions, line.number, &raw.errors),
                  let item = requireId(obj, "item_id", interactions, line.number, &raw.errors) else { continue }
            guard let tv = obj["timestamp"] else {
                raw.errors.add(interactions, line.number, "missing field timestamp"); continue
            }
            guard let ts = tv.number else {
                raw.errors.add(interactions, line.number, "timestamp '\(tv.text)' is not a number"); continue
            }
            var rating: Float? = nil
            if let rv = obj["rating"] {
                raw.hasRatings = true
                if case .null = rv {} else {
                    guard let r = rv.number.flatMap(finiteRating) else {
                        raw.errors.add(interactions, line.number, "rating '\(rv.text)' is not a finite number"); continue
                    }
                    rating = r
                }
            }
            raw.records.append(.init(user: user, item: item, timestamp: ts, line: line.number, rating: rating))
        }
        if let items {
            (raw.itemFieldNames, raw.itemRecords) = try readRecords(items, key: "item_id", decoder, &raw.errors)
            raw.itemSource = items
        }
        if let users {
            (raw.userFieldNames, raw.userRecords) = try readRecords(users, key: "user_id", decoder, &raw.errors)
        }
        return try raw.clean(options)
    }

    static func parseObject(_ text: Substring, _ decoder: JSONDecoder, _ path: String, _ line: Int,
                            _ errors: inout LineErrorCollector) -> [String: JSONValue]? {
        do {
            return try decoder.decode([String: JSONValue].self, from: Data(text.utf8))
        } catch {
            errors.add(path, line, "bad JSON (expected one object per line)")
            return nil
        }
    }

    static func requireId(_ obj: [String: JSONValue], _ key: String, _ path: String, _ line: Int,
                          _ errors: inout LineErrorCollector) -> String? {
        guard let v = obj[key] else { errors.add(path, line, "missing field \(key)"); return nil }
        guard let id = v.id, !id.isEmpty else {
            errors.add(path, line, "\(key) must be a non-empty string or an integer"); return nil
        }
        if id.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            errors.add(path, line, "\(key) contains a tab or newline"); return nil
        }
        return id
    }

    static func readRecords(_ path: String, key: String, _ decoder: JSONDecoder,
                            _ errors: inout LineErrorCollector) throws -> ([String], [String: [String: String]]) {
        var names = Set<String>()
        var records: [String: [String: String]] = [:]
        for line in try TextLines(path: path).lines {
            guard let obj = parseObject(line.text, decoder, path, line.number, &errors),
                  let id = requireId(obj, key, path, line.number, &errors) else { continue }
            if records[id] != nil { continue }
            var rec: [String: String] = [:]
            for (k, v) in obj where k != key { rec[k] = v.text; names.insert(k) }
            records[id] = rec
        }
        return (names.sorted(), records)
    }
}
