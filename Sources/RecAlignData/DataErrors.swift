// DataErrors: the errors a corpus, split or text file can raise, each naming the file, line and problem.
import Foundation

/// One bad line of an input file: where it is and what is wrong with it.
public struct LineError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// 1-based line number in the file.
    public var line: Int
    public var reason: String
    public init(path: String, line: Int, reason: String) {
        self.path = path; self.line = line; self.reason = reason
    }
    public var description: String { "\(path):\(line): \(reason)" }
}

/// Errors raised while loading a corpus or reading/writing split files.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file that must exist is missing or unreadable.
    case unreadable(path: String, reason: String)
    /// A header line is missing or lacks a required column.
    case badHeader(path: String, reason: String)
    /// Malformed lines were found and `skipBadLines` was off: the first few errors and the total count.
    case badLines(first: [LineError], count: Int)
    /// The corpus or split violates a protocol rule (e.g. a user with fewer than 3 interactions).
    case invalid(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .badHeader(path, reason): return "\(path): bad header: \(reason)"
        case let .badLines(first, count):
            let shown = first.map { "  \($0)" }.joined(separator: "\n")
            let more = count > first.count ? "\n  ... and \(count - first.count) more" : ""
            return "\(count) malformed line\(count == 1 ? "" : "s") (skip them with --skip-bad-lines; `skipBadLines` in LoadOptions):\n\(shown)\(more)"
        case let .invalid(reason): return reason
        }
    }
}

/// Collects line errors while a loader runs; at the end either refuses the corpus or counts the skips.
struct LineErrorCollector {
    private(set) var errors: [LineError] = []
    var count: Int { errors.count }
    mutating func add(_ path: String, _ line: Int, _ reason: String) {
        errors.append(LineError(path: path, line: line, reason: reason))
    }
    /// Throws `DataError.badLines` (first 5 errors + count) unless bad lines may be skipped.
    func check(skipBadLines: Bool) throws {
        if !errors.isEmpty && !skipBadLines {
            throw DataError.badLines(first: Array(errors.prefix(5)), count: errors.count)
        }
    }
}
