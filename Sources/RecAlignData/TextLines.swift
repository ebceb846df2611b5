// TextLines: reads a text file (UTF-8 or Latin-1) into numbered, non-blank lines for the corpus loaders.
import Foundation

/// Text encodings the loaders read.
public enum TextEncoding: Sendable {
    case utf8, latin1
}

/// The non-blank lines of a text file with their 1-based line numbers; a trailing "\r" is dropped.
struct TextLines {
    let path: String
    let lines: [(number: Int, text: Substring)]

    init(path: String, encoding: TextEncoding = .utf8) throws {
        self.path = path
        guard var data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "no such file or not readable")
        }
        if encoding == .utf8 && data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        if encoding == .utf8 && String(data: data, encoding: .utf8) == nil {
            throw DataError.unreadable(path: path, reason: "not valid UTF-8")
        }
        var out: [(number: Int, text: Substring)] = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var n = 0
            var start = 0
            let count = bytes.count
            while start < count {
                var end = start
                while end < count && bytes[end] != 0x0A { end += 1 }
                n += 1
                var stop = end
                if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<stop])
                let blank = slice.allSatisfy { $0 == 0x20 || $0 == 0x09 }
                if !blank {
                    let line: String
                    switch encoding {
                    case .utf8: line = String(decoding: slice, as: UTF8.self)
                    case .latin1: line = String(decoding: slice.map { UInt16($0) }, as: UTF16.self)
                    }
                    out.append((n, Substring(line)))
                }
                start = end + 1
            }
        }
        lines = out
    }
}

/// Parses a timestamp field: a finite decimal number.
func parseTimestamp(_ s: Substring) -> Double? {
    guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else { return nil }
    return v
}

/// An explicit rating: a number finite also as a Float, or nil; whitespace around it is ignored.
func parseRating(_ s: Substring) -> Float? { parseTimestamp(s).flatMap(finiteRating) }

/// `v` as a Float rating when finite in Float (1e300 is not), else nil.
func finiteRating(_ v: Double) -> Float? { Float(v).isFinite ? Float(v) : nil }

/// Splits a line into fields on an ASCII separator byte (fast: works on UTF-8 code units, keeps empty fields).
func splitFields(_ line: Substring, _ separator: UInt8) -> [Substring] {
    line.utf8.split(separator: separator, omittingEmptySubsequences: false).map { Substring($0) }
}
