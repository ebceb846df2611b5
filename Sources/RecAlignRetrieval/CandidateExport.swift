// CandidateExport: the retriever's top-K per user as candidates.jsonl records (texts, scores, target rank).
import Foundation
import RecAlignData
import RecAlignMetrics

public enum CandidateExport {
    /// One record per user in `users`: the visible history (most recent `historyItems`, oldest first),
    /// the top `k` non-excluded items by dot product (plus `term`, a head's transition term, when given), the
    /// held-out target and its full-protocol rank, and the user's profile fields when the corpus has them.
    public static func records(corpus: PreparedCorpus, users: [Int32], stage: EvalStage, setting: EvalSetting,
                               userVectors: [Float], itemVectors: [Float], dim: Int, k: Int,
                               historyItems: Int = 20, shardItems: Bool = false, term: ScoreTerm? = nil) throws -> [CandidateRecord] {
        let (targets, exclude) = corpus.targetsAndExclusions(users, stage)
        if shardItems && term != nil {
            throw RetrievalError.invalid(field: "term", reason: "a score term is not supported with a sharded catalog")
        }
        // Under MPI: each rank scores every user against its slice of the catalog (`shardItems`), or its share
        // of the users against the whole catalog (the default).
        let top: TopKResult
        if shardItems {
            let rows = ItemShardedTopK.slice(items: itemVectors.count / max(1, dim))
            top = try ItemShardedTopK.search(queries: userVectors, slice: Array(itemVectors[(rows.lowerBound * dim)..<(rows.upperBound * dim)]),
                                             first: rows.lowerBound, dim: dim, k: k, exclude: exclude)
        } else {
            top = try TopK.search(queries: userVectors, items: itemVectors, dim: dim, k: k, exclude: exclude, term: term)
        }
        let ranks = try Evaluator.ranks(users: userVectors, items: itemVectors, dim: dim, targets: targets, exclude: exclude, term: term)
        let split = corpus.split, ds = corpus.dataset
        func item(_ row: Int, score: Float? = nil) -> CandidateItem {
            CandidateItem(itemId: split.itemIds[row], text: corpus.itemTexts[row], score: score)
        }
        var out: [CandidateRecord] = []
        out.reserveCapacity(users.count)
        for (q, u) in users.enumerated() {
            let hist = split.history(user: Int(u), stage: stage, setting: setting).suffix(historyItems)
            let cands = zip(top.rows(query: q), top.scores(query: q)).map { item(Int($0.0), score: $0.1) }
            var profile: [String: String] = [:]
            for name in ds.userFieldNames where name != "user_id" {
                if let v = ds.userField(name, row: Int(u)), !v.isEmpty { profile[name] = v }
            }
            out.append(CandidateRecord(userId: split.userIds[Int(u)], history: hist.map { item(Int($0)) },
                                       candidates: cands, target: split.itemIds[targets[q]], targetRank: ranks[q],
                                       profile: profile.isEmpty ? nil : profile))
        }
        return out
    }
}
