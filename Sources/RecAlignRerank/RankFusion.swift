// RankFusion: the LLM's order fused with the retriever's by weighted reciprocal ranks; the weight from validation.
import Foundation
import RecAlignMetrics

/// Weighted reciprocal-rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): an item's fused score is
/// `w / (k + rank_llm) + (1 - w) / (k + rank_retriever)` with 1-based ranks and k = 60. w = 0 gives the
/// retriever's order, w = 1 the LLM's; in between, an item both put high stays high, so a model that is
/// mostly noise moves the list little. Ranks are used rather than scores because a listwise answer has no
/// scores and pointwise log-odds are not on the retriever's scale.
public enum RankFusion {
    public static let k = 60.0
    /// The weights `chooseWeight` tries: 0, 0.1, ..., 1.
    public static let grid = (0...10).map { Double($0) / 10 }

    /// The fused order of one user's candidates. `llm` and `retriever` hold the same ids (the LLM's order of the
    /// whole list); ties keep retriever order.
    public static func fuse(retriever: [String], llm: [String], weight w: Double) -> [String] {
        var llmRank: [String: Int] = [:]
        for (i, id) in llm.enumerated() where llmRank[id] == nil { llmRank[id] = i + 1 }
        let scored = retriever.enumerated().map { i, id -> (Int, String, Double) in
            let r = Double(llmRank[id] ?? retriever.count + 1)
            return (i, id, w / (k + r) + (1 - w) / (k + Double(i + 1)))
        }
        return scored.sorted { $0.2 != $1.2 ? $0.2 > $1.2 : $0.0 < $1.0 }.map(\.1)
    }

    /// The weight of `grid` whose fused orders give the best mean NDCG@10 over `records` (validation users), then
    /// the best Recall@10, then the smallest weight (closest to the retriever). `llmOrders[i]` belongs to
    /// `records[i]`; records without a target do not count.
    public static func chooseWeight(records: [CandidateRecord], llmOrders: [[String]], grid: [Double] = grid) -> Double {
        var best = (w: 0.0, ndcg: -1.0, recall: -1.0)
        for w in grid {
            var ranks: [Int] = []
            for (r, llm) in zip(records, llmOrders) {
                if let t = targetRank(of: r, order: fuse(retriever: r.candidates.map(\.itemId), llm: llm, weight: w)) {
                    ranks.append(t)
                }
            }
            let m = MetricSummary(ranks: ranks)
            if m.ndcg10 > best.ndcg + 1e-12 || (abs(m.ndcg10 - best.ndcg) <= 1e-12 && m.recall10 > best.recall + 1e-12) {
                best = (w, m.ndcg10, m.recall10)
            }
        }
        return best.w
    }
}
