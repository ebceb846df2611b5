// CandidatesFile: the candidates.jsonl schema shared by the retriever (writer) and the reranker (reader).
import Foundation
import RecAlignFormats

/// One item as shown to a reranker: id, text, and the retriever's score where there is one.
public struct CandidateItem: Codable, Equatable, Sendable {
    public var itemId: String
    public var text: String
    public var score: Float?
    enum CodingKeys: String, CodingKey { case itemId = "item_id", text, score }
    public init(itemId: String, text: String, score: Float? = nil) {
        self.itemId = itemId; self.text = text; self.score = score
    }
}

/// One line of candidates.jsonl: a user, the visible history (oldest first), the retriever's top K in
/// retriever order, the held-out target when known, and optional profile fields (from a `.user` file).
public struct CandidateRecord: Codable, Equatable, Sendable {
    public var userId: String
    public var history: [CandidateItem]
    public var candidates: [CandidateItem]
    public var target: String?
    /// Rank of the target over the whole item universe under the protocol (may exceed the list length).
    public var targetRank: Int?
    public var profile: [String: String]?
    enum CodingKeys: String, CodingKey {
        case userId = "user_id", history, candidates, target, targetRank = "target_rank", profile
    }
    public init(userId: String, history: [CandidateItem], candidates: [CandidateItem], target: String? = nil,
                targetRank: Int? = nil, profile: [String: String]? = nil) {
        self.userId = userId; self.history = history; self.candidates = candidates
        self.target = target; self.targetRank = targetRank; self.profile = profile
    }
}

public enum CandidatesFileError: Error, CustomStringConvertible {
    case malformed(path: String, line: Int, reason: String)
    public var description: String {
        switch self {
        case let .malformed(path, line, reason): return "\(path):\(line): \(reason)"
        }
    }
}

/// Reads and writes candidates.jsonl (one `CandidateRecord` per line, UTF-8).
public enum CandidatesFile {
    public static func read(path: String) throws -> [CandidateRecord] {
        let text = try TextFile.read(path)
        let decoder = JSONDecoder()
        var out: [CandidateRecord] = []
        for (i, line) in TextFile.lines(text).enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            do { out.append(try decoder.decode(CandidateRecord.self, from: Data(line.utf8))) } catch {
                throw CandidatesFileError.malformed(path: path, line: i + 1, reason: "\(error)")
            }
        }
        return out
    }

    /// Encodes records as JSONL (keys sorted so files diff cleanly).
    public static func encode(_ records: [CandidateRecord]) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for r in records { data.append(try enc.encode(r)); data.append(0x0A) }
        return data
    }
}
