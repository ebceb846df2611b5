// RecBoleLoader: reads RecBole atomic files (<name>.inter / .item / .user, typed TSV headers) into a Dataset.
import Foundation

/// A column of a RecBole atomic file header such as `movie_title:token_seq`.
public struct AtomicColumn: Equatable, Sendable {
    public enum Kind: String, Sendable { case token, tokenSeq = "token_seq", float, floatSeq = "float_seq" }
    public var name: String
    public var kind: Kind
}

/// Reader of RecBole atomic files.
public enum RecBoleLoader {
    /// Parses a typed header line; throws `DataError.badHeader` naming the column at fault.
    public static func parseHeader(_ line: Substring, path: String) throws -> [AtomicColumn] {
        try splitFields(line, 0x09).enumerated().map { i, col in
            guard let colon = col.lastIndex(of: ":") else {
                throw DataError.badHeader(path: path, reason: "column \(i + 1) '\(col)' has no ':type'")
            }
            let name = String(col[..<colon]).trimmingCharacters(in: .whitespaces)
            let type = String(col[col.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, let kind = AtomicColumn.Kind(rawValue: type) else {
                throw DataError.badHeader(path: path,
                    reason: "column \(i + 1) '\(col)': type must be token, token_seq, float or float_seq")
            }
            return AtomicColumn(name: name, kind: kind)
        }
    }

    /// Loads `<folder>/<name>.inter` (required; columns `user_id`, `item_id`, optionally `timestamp`)
    /// and, when present, `<name>.item` (keyed by `item_id`) and `<name>.user` (keyed by `user_id`).
    /// `name` defaults to the folder's last path component, or the only `.inter` file in the folder.
    /// Without a `timestamp` column the file order is the time order. A `rating` column (of any type) must hold
    /// finite numbers (empty: missing) and becomes `Dataset.ratings`; feedback stays implicit for ranking.
    /// Other columns are ignored. Item and user fields are kept as strings. In every file a non-empty value of a
    /// `float` column must be a finite number (`float_seq`: space-separated finite numbers), else its line is bad.
    public static func load(folder: String, name: String? = nil, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let base = try resolveName(folder: folder, name: name)
        let stem = (folder as NSString).appendingPathComponent(base)
        var raw = RawCorpus(name: base)

        let interPath = stem + ".inter"
        raw.interactionsPath = interPath
        let inter = try TextLines(path: interPath)
        guard let header = inter.lines.first else {
            throw DataError.badHeader(path: interPath, reason: "empty file")
        }
        let cols = try parseHeader(header.text, path: interPath)
        guard let u = cols.firstIndex(where: { $0.name == "user_id" }),
              let it = cols.firstIndex(where: { $0.name == "item_id" }) else {
            throw DataError.badHeader(path: interPath, reason: "needs user_id and item_id columns")
        }
        let t = cols.firstIndex(where: { $0.name == "timestamp" })
        let numeric = numericColumns(cols, except: [u, it] + (t.map { [$0] } ?? []))
        let rc = cols.firstIndex(where: { $0.name == "rating" })
        raw.hasRatings = rc != nil
        raw.records.reserveCapacity(inter.lines.count)
        for (k, line) in inter.lines.dropFirst().enumerated() {
            let f = splitFields(line.text, 0x09)
            guard f.count == cols.count else {
                raw.errors.add(interPath, line.number, "expected \(cols.count) tab-separated fields, found \(f.count)")
                continue
            }
            let user = String(f[u]), item = String(f[it])
            if user.isEmpty || item.isEmpty {
                raw.errors.add(interPath, line.number, "empty \(user.isEmpty ? "user_id" : "item_id")")
                continue
            }
            if let reason = numericProblem(f, numeric) {
                raw.errors.add(interPath, line.number, reason)
                continue
            }
            var ts = Double(k)
            if let t {
                guard let v = parseTimestamp(f[t]) else {
                    raw.errors.add(interPath, line.number, "timestamp '\(f[t])' is not a number")
                    continue
                }
                ts = v
            }
            var rating: Float? = nil
            if let rc, !f[rc].allSatisfy({ $0 == " " }) {
                guard let r = parseRating(f[rc]) else {
                    raw.errors.add(interPath, line.number, "rating '\(f[rc])' is not a finite number")
                    continue
                }
                rating = r
            }
            raw.records.append(.init(user: user, item: item, timestamp: ts, line: line.number, rating: rating))
        }

        if FileManager.default.fileExists(atPath: stem + ".item") {
            (raw.itemFieldNames, raw.itemRecords) = try readFields(path: stem + ".item", key: "item_id", errors: &raw.errors)
            raw.itemSource = stem + ".item"
        }
        if FileManager.default.fileExists(atPath: stem + ".user") {
            (raw.userFieldNames, raw.userRecords) = try readFields(path: stem + ".user", key: "user_id", errors: &raw.errors)
        }
        return try raw.clean(options)
    }

    static func resolveName(folder: String, name: String?) throws -> String {
        if let name { return name }
        let last = (folder as NSString).lastPathComponent
        let fm = FileManager.default
        if fm.fileExists(atPath: (folder as NSString).appendingPathComponent(last + ".inter")) { return last }
        let inters = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".inter") }.sorted()
        guard inters.count == 1 else {
            throw DataError.unreadable(path: folder, reason: inters.isEmpty
                ? "no .inter file" : "several .inter files (\(inters.joined(separator: ", "))); pass a name")
        }
        return String(inters[0].dropLast(".inter".count))
    }

    /// Reads a `.item` / `.user` file: field names (without the key) and id -> field -> value.
    /// The first line for an id wins.
    static func readFields(path: String, key: String, errors: inout LineErrorCollector) throws
        -> ([String], [String: [String: String]]) {
        let file = try TextLines(path: path)
        guard let header = file.lines.first else { throw DataError.badHeader(path: path, reason: "empty file") }
        let cols = try parseHeader(header.text, path: path)
        guard let k = cols.firstIndex(where: { $0.name == key }) else {
            throw DataError.badHeader(path: path, reason: "needs a \(key) column")
        }
        let names = cols.enumerated().filter { $0.offset != k }.map { $0.element.name }
        let numeric = numericColumns(cols, except: [k])
        var records: [String: [String: String]] = [:]
        for line in file.lines.dropFirst() {
            let f = splitFields(line.text, 0x09)
            guard f.count == cols.count else {
                errors.add(path, line.number, "expected \(cols.count) tab-separated fields, found \(f.count)")
                continue
            }
            let id = String(f[k])
            if id.isEmpty { errors.add(path, line.number, "empty \(key)"); continue }
            if let reason = numericProblem(f, numeric) { errors.add(path, line.number, reason); continue }
            if records[id] != nil { continue }
            var rec: [String: String] = [:]
            for (i, c) in cols.enumerated() where i != k { rec[c.name] = String(f[i]) }
            records[id] = rec
        }
        return (names, records)
    }

    /// The `float` / `float_seq` columns of a header (their indices and declarations), minus `except`.
    static func numericColumns(_ cols: [AtomicColumn], except: [Int]) -> [(index: Int, column: AtomicColumn)] {
        cols.enumerated().filter { ($0.element.kind == .float || $0.element.kind == .floatSeq) && !except.contains($0.offset) }
            .map { ($0.offset, $0.element) }
    }

    /// Why the line's numeric fields are bad (the first one at fault, named), or nil. An empty value is a
    /// missing one (RecBole reads it as NaN) and passes; NaN or infinity written out does not.
    static func numericProblem(_ fields: [Substring], _ numeric: [(index: Int, column: AtomicColumn)]) -> String? {
        for (i, c) in numeric {
            let v = fields[i]
            if c.kind == .float {
                if v.allSatisfy({ $0 == " " }) || parseTimestamp(v) != nil { continue }
                return "\(c.name) '\(v)' is not a number (a float column)"
            }
            if v.split(separator: " ").allSatisfy({ parseTimestamp($0) != nil }) { continue }
            return "\(c.name) '\(v)' is not a space-separated list of numbers (a float_seq column)"
        }
        return nil
    }
}
