// RankMetricsHandTests: the protocol's rank rule (ties, NaN, exclusions) and metrics on hand-computed cases.
import Foundation
import Testing
import RecAlignRetrieval
import RecAlignMetrics

@Suite("Rank metrics, hand-computed")
struct RankMetricsHandTests {
    func rank(_ scores: [Float], target: Int, excluded: Set<Int> = []) -> Int {
        scores.withUnsafeBufferPointer { RankMetrics.rank(scores: $0, target: target, excluded: excluded) }
    }

    @Test func ranksWithTiesNaNAndExclusions() {
        // rows:          0    1    2    3    4    5
        let s: [Float] = [0.5, 0.9, 0.5, 0.1, .nan, 0.7]
        #expect(rank(s, target: 1) == 1)
        #expect(rank(s, target: 5) == 2)
        #expect(rank(s, target: 0) == 3)               // 0.9, 0.7 higher; the tie at row 2 has a higher row
        #expect(rank(s, target: 2) == 4)               // 0.9, 0.7 higher, tie at row 0 has a lower row
        #expect(rank(s, target: 2, excluded: [0, 1]) == 2)
        #expect(rank(s, target: 4) == 6)               // NaN is -inf: last
        #expect(rank(s, target: 3, excluded: [3]) == 5) // the target is never excluded: 4 higher, NaN below
    }

    @Test func metricsFromRanks() {
        #expect(RankMetrics.ndcg(rank: 1, k: 10) == 1)
        #expect(RankMetrics.ndcg(rank: 3, k: 10) == 0.5)
        #expect(RankMetrics.ndcg(rank: 11, k: 10) == 0)
        #expect(RankMetrics.mrr(rank: 4, k: 10) == 0.25)
        #expect(RankMetrics.recall(rank: 10, k: 10) == 1 && RankMetrics.recall(rank: 11, k: 10) == 0)
        let m = MetricSummary(ranks: [1, 3, 11, 60])
        #expect(m.users == 4)
        #expect(m.recall10 == 0.5 && m.recall50 == 0.75)
        #expect(abs(m.ndcg10 - 1.5 / 4) < 1e-12)
        #expect(abs(m.mrr10 - (1 + 1.0 / 3) / 4) < 1e-12)
    }
}
