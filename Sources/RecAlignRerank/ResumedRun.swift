// ResumedRun: the users an earlier `rerank` output already holds, matched line by line to the input.
import Foundation
import RecAlignFormats
import RecAlignMetrics

public enum ResumedRun {
    /// `outcomes[i]` is the earlier outcome of `records[i]`, or nil where it must be asked (no such line, or
    /// the request failed at the transport level). A missing file resumes nothing. A line that is not a
    /// reranked record, belongs to another user, or lists other candidates throws, naming the file and line:
    /// the earlier run was over other input, and mixing the two would give a report of neither.
    public static func outcomes(path: String, records: [CandidateRecord]) throws -> [RerankOutcome?] {
        var outcomes = [RerankOutcome?](repeating: nil, count: records.count)
        guard FileManager.default.fileExists(atPath: path) else { return outcomes }
        let dec = JSONDecoder()
        let lines = TextFile.lines(try TextFile.read(path)).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        for (i, line) in lines.prefix(records.count).enumerated() {
            func bad(_ why: String) -> RerankInputError { .invalid(path: path, line: i + 1, reason: why) }
            guard let r = try? dec.decode(RerankedRecord.self, from: Data(line.utf8)) else {
                throw bad("not a reranked record (rerank's output); --resume needs the earlier output as --out")
            }
            let want = records[i]
            guard r.record.userId == want.userId else {
                throw bad("user \(r.record.userId), but line \(i + 1) of the candidates is user \(want.userId)")
            }
            guard r.rerank.retrieverOrder == want.candidates.map(\.itemId) else {
                throw bad("user \(want.userId): the earlier run had other candidates")
            }
            let o = r.outcome
            guard o.order.count == want.candidates.count, Set(o.order) == Set(r.rerank.retrieverOrder) else {
                throw bad("user \(want.userId): the reranked order does not list the candidates")
            }
            if o.status != .transportFailure { outcomes[i] = o }
        }
        return outcomes
    }
}
