// ResumedRun: the users an earlier `rerank` already answered, from its output and its <out>.partial checkpoint.
import Foundation
import RecAlignFormats
import RecAlignMetrics

public enum ResumedRun {
    /// `outcomes[i]` is the earlier outcome of `records[i]`, or nil where it must be asked (not answered yet, or
    /// the request failed at the transport level).
    ///
    /// A finished output at `path` is matched to `records` line by line; an interrupted run's checkpoint
    /// (`RerankCheckpoint.path(for: path)`, answers in arrival order) is matched by user and candidates. Neither
    /// file existing resumes nothing. A line that is not a reranked record, a user who is not in the input, or
    /// other candidates throw, naming the file and line: the earlier run was over other input, and mixing the
    /// two would give a report of neither.
    public static func outcomes(path: String, records: [CandidateRecord]) throws -> [RerankOutcome?] {
        var outcomes = [RerankOutcome?](repeating: nil, count: records.count)
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            for (i, (line, r)) in try RerankedFile.read(path).prefix(records.count).enumerated() {
                let want = records[i]
                guard r.record.userId == want.userId else {
                    throw RerankInputError.invalid(path: path, line: line, reason:
                        "user \(r.record.userId), but line \(i + 1) of the candidates is user \(want.userId)")
                }
                guard sameCandidates(r, want) else { throw otherCandidates(path, line, r) }
                outcomes[i] = kept(r)
            }
        }
        let partial = RerankCheckpoint.path(for: path)
        guard fm.fileExists(atPath: partial) else { return outcomes }
        var indices: [String: [Int]] = [:]
        for (i, r) in records.enumerated() { indices[r.userId, default: []].append(i) }
        for (line, r) in try RerankedFile.read(partial, truncatedTail: true) {
            guard let mine = indices[r.record.userId] else {
                throw RerankInputError.invalid(path: partial, line: line, reason: "user \(r.record.userId) is not in the candidates")
            }
            let same = mine.filter { sameCandidates(r, records[$0]) }
            guard !same.isEmpty else { throw otherCandidates(partial, line, r) }
            if let i = same.first(where: { outcomes[$0] == nil }) { outcomes[i] = kept(r) }
        }
        return outcomes
    }

    /// The earlier line was asked about `want`'s candidates, in the same retriever order.
    static func sameCandidates(_ r: RerankedRecord, _ want: CandidateRecord) -> Bool {
        r.rerank.retrieverOrder == want.candidates.map(\.itemId)
    }

    static func otherCandidates(_ path: String, _ line: Int, _ r: RerankedRecord) -> RerankInputError {
        .invalid(path: path, line: line, reason: "user \(r.record.userId): the earlier run had other candidates")
    }

    /// The line's outcome, or nil when its request failed at the transport level (asked again).
    static func kept(_ r: RerankedRecord) -> RerankOutcome? {
        r.rerank.status == .transportFailure ? nil : r.outcome
    }
}
