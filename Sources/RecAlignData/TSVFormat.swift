// TSVFormat: the small shared rules of RecAlign's TSV files (timestamps, field checks, line assembly).
import Foundation

enum TSVFormat {
    /// Integral timestamps as integers ("881250949"), others in Swift's shortest round-trip form.
    static func timestamp(_ t: Double) -> String {
        t == t.rounded() && abs(t) < 1e15 ? String(Int64(t)) : String(t)
    }

    /// Throws when a field would break the TSV layout (tab or newline inside).
    static func checkField(_ s: String, _ what: String, _ path: String) throws {
        if s.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            throw DataError.invalid("\(path): \(what) '\(s)' contains a tab or newline")
        }
    }

    /// Reads a TSV file with the given header; returns its data lines split into exactly `header.count` fields.
    static func read(_ path: String, header: [String]) throws -> [(number: Int, fields: [Substring])] {
        let file = try TextLines(path: path)
        guard let first = file.lines.first else { throw DataError.badHeader(path: path, reason: "empty file") }
        let got = splitFields(first.text, 0x09).map(String.init)
        guard got == header else {
            throw DataError.badHeader(path: path, reason: "expected '\(header.joined(separator: "\\t"))', found '\(first.text)'")
        }
        var out: [(number: Int, fields: [Substring])] = []
        out.reserveCapacity(file.lines.count)
        for line in file.lines.dropFirst() {
            let f = splitFields(line.text, 0x09)
            guard f.count == header.count || (header.last == "text" && f.count == header.count - 1) else {
                throw DataError.badLines(first: [LineError(path: path, line: line.number,
                    reason: "expected \(header.count) tab-separated fields, found \(f.count)")], count: 1)
            }
            out.append((line.number, f.count == header.count ? f : f + [""]))
        }
        return out
    }

    static func lineError(_ path: String, _ line: Int, _ reason: String) -> DataError {
        .badLines(first: [LineError(path: path, line: line, reason: reason)], count: 1)
    }
}
