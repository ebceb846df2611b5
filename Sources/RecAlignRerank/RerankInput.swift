// RerankInput: loads candidates.jsonl for reranking and rejects records the reranker cannot use, by line.
import Foundation
import RecAlignFormats
import RecAlignMetrics

/// Problems with the reranker's input file.
public enum RerankInputError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case invalid(path: String, line: Int, reason: String)
    case empty(path: String)
    public var description: String {
        switch self {
        case let .missing(path): return "\(path): no such file"
        case let .invalid(path, line, reason): return "\(path):\(line): \(reason)"
        case let .empty(path): return "\(path): no records"
        }
    }
}

public enum RerankInput {
    /// Reads candidates.jsonl (`CandidatesFile.read`) and checks every record: a non-empty user id,
    /// candidate ids non-empty and unique within the record. Errors name the file and line.
    public static func load(path: String) throws -> [CandidateRecord] { try loadWithLines(path: path).records }

    /// `load`, with each record's 1-based line in the file (for later errors that name the line).
    public static func loadWithLines(path: String) throws -> (records: [CandidateRecord], lines: [Int]) {
        guard FileManager.default.fileExists(atPath: path) else { throw RerankInputError.missing(path: path) }
        let records = try CandidatesFile.read(path: path)
        if records.isEmpty { throw RerankInputError.empty(path: path) }
        // Line numbers of the non-blank lines, as CandidatesFile.read skips blank ones.
        let text = (try? TextFile.read(path)) ?? ""
        var lines: [Int] = []
        for (i, l) in TextFile.lines(text).enumerated()
        where !l.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(i + 1) }
        for (k, r) in records.enumerated() {
            let line = k < lines.count ? lines[k] : k + 1
            if r.userId.isEmpty { throw RerankInputError.invalid(path: path, line: line, reason: "empty user_id") }
            var seen = Set<String>()
            for c in r.candidates {
                if c.itemId.isEmpty {
                    throw RerankInputError.invalid(path: path, line: line, reason: "user \(r.userId): a candidate has an empty item_id")
                }
                if !seen.insert(c.itemId).inserted {
                    throw RerankInputError.invalid(path: path, line: line, reason: "user \(r.userId): candidate \(c.itemId) is listed twice")
                }
            }
        }
        return (records, records.indices.map { $0 < lines.count ? lines[$0] : $0 + 1 })
    }
}
