// RankMetrics: the protocol's rank of a target (ties and exclusions included) and Recall / NDCG / MRR @K.
import Foundation

/// Ranking metrics of one target per user (../shared/PROTOCOL.md section 4).
public enum RankMetrics {
    /// Rank of `target` among `scores` (one per item row): 1 + #(non-excluded items with a higher score)
    /// + #(non-excluded items with an equal score and a lower row). NaN counts as -inf.
    /// `excluded` rows never count; the target itself is never excluded.
    public static func rank(scores: UnsafeBufferPointer<Float>, target: Int, excluded: Set<Int>) -> Int {
        func clean(_ x: Float) -> Float { x.isNaN ? -.infinity : x }
        let t = clean(scores[target])
        var r = 1
        for i in 0..<scores.count where i != target && !excluded.contains(i) {
            let s = clean(scores[i])
            if s > t || (s == t && i < target) { r += 1 }
        }
        return r
    }

    public static func recall(rank: Int, k: Int) -> Double { rank <= k ? 1 : 0 }
    public static func ndcg(rank: Int, k: Int) -> Double { rank <= k ? 1 / log2(Double(rank) + 1) : 0 }
    public static func mrr(rank: Int, k: Int) -> Double { rank <= k ? 1 / Double(rank) : 0 }
}

/// Averages of the reported metrics over a set of evaluated users.
public struct MetricSummary: Codable, Equatable, Sendable {
    public var users: Int
    public var recall10: Double
    public var ndcg10: Double
    public var mrr10: Double
    public var recall50: Double

    enum CodingKeys: String, CodingKey {
        case users
        case recall10 = "Recall@10", ndcg10 = "NDCG@10", mrr10 = "MRR@10", recall50 = "Recall@50"
    }

    /// Summary of a list of 1-based target ranks.
    public init(ranks: [Int]) {
        users = ranks.count
        let n = Double(max(ranks.count, 1))
        recall10 = ranks.reduce(0) { $0 + RankMetrics.recall(rank: $1, k: 10) } / n
        ndcg10 = ranks.reduce(0) { $0 + RankMetrics.ndcg(rank: $1, k: 10) } / n
        mrr10 = ranks.reduce(0) { $0 + RankMetrics.mrr(rank: $1, k: 10) } / n
        recall50 = ranks.reduce(0) { $0 + RankMetrics.recall(rank: $1, k: 50) } / n
    }
}

extension MetricSummary {
    /// "R@10 0.1234  N@10 0.0567  MRR@10 0.0400  R@50 0.3000 (943 users)".
    public var line: String {
        String(format: "R@10 %.4f  N@10 %.4f  MRR@10 %.4f  R@50 %.4f (%d users)", recall10, ndcg10, mrr10, recall50, users)
    }
    /// True when `self` beats `other` on Recall@10, NDCG@10 breaking ties (the protocol's model selection).
    public func isBetter(than other: MetricSummary?) -> Bool {
        guard let other else { return true }
        return recall10 > other.recall10 || (recall10 == other.recall10 && ndcg10 > other.ndcg10)
    }
}
