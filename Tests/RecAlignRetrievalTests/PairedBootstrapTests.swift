// PairedBootstrapTests: the interval against a hand-computed case, its edge cases, and the table's columns.
import Foundation
import Testing
import RecAlignData
import RecAlignMetrics
import RecAlignRetrieval

@Suite struct PairedBootstrapTests {
    @Test func matchesAHandComputedCase() throws {
        // Recall@10 per user: A hits users 0 and 2, B users 0 and 1 -> differences [0, -1, +1, 0], mean 0.
        let a = [1, 20, 3, 50], b = [5, 5, 30, 50]
        // SplitMix64(42) outputs mod 4: 1, 3, 2, 0 | 2, 2, 1, 0 (the first three outputs are PROTOCOL section 3's).
        // Draw 1 takes users 1, 3, 2, 0: (-1 + 0 + 1 + 0) / 4 = 0. Draw 2 takes 2, 2, 1, 0: (1 + 1 - 1 + 0) / 4 = 0.25.
        // Sorted [0, 0.25]; bounds at floor(0.025 * 2) = 0 and ceil(0.975 * 2) - 1 = 1.
        let r = try PairedBootstrap.interval(a, b, metric: .recall(10), draws: 2, seed: 42)
        #expect(r == BootstrapInterval(observed: 0, low: 0, high: 0.25))
        #expect(!r.excludesZero)
        #expect(r.text == "+0.0000 [+0.0000, +0.2500]")
        // NDCG@10 of the same users: 1, 0, 1/log2(4) = 0.5, 0 against 1/log2(6), 1/log2(6), 0, 0.
        let n = try PairedBootstrap.interval(a, b, metric: .ndcg(10), draws: 1, seed: 42)
        let g = 1 / log2(6.0)
        #expect(abs(n.observed - (1 + 0.5 - 2 * g) / 4) < 1e-12)
        #expect(abs(n.low - ((0 - g) + 0 + 0.5 + (1 - g)) / 4) < 1e-12)   // users 1, 3, 2, 0
    }

    @Test func identicalRowsGiveZeroAndABetterRowExcludesIt() throws {
        var rng = SplitMix64(seed: 3)
        let ranks = (0..<200).map { _ in 1 + rng.below(100) }
        let same = try PairedBootstrap.interval(ranks, ranks, metric: .recall(10))
        #expect(same == BootstrapInterval(observed: 0, low: 0, high: 0))
        let better = ranks.map { max(1, $0 - 30) }   // never worse, often inside the top 10 where it was not
        let r = try PairedBootstrap.interval(better, ranks, metric: .recall(10))
        #expect(r.observed > 0 && r.low > 0 && r.excludesZero)
        let worse = try PairedBootstrap.interval(ranks, better, metric: .ndcg(10))
        #expect(worse.high < 0)
    }

    @Test func unpairedInputIsRefused() {
        #expect(throws: BootstrapError.self) { _ = try PairedBootstrap.interval([1, 2], [1], metric: .recall(10)) }
        #expect(throws: BootstrapError.self) { _ = try PairedBootstrap.interval([], [], metric: .recall(10)) }
        #expect(throws: BootstrapError.self) { _ = try PairedBootstrap.interval([1], [1], metric: .recall(10), draws: 0) }
    }

    @Test func tableAddsIntervalColumnsAgainstTheReference() throws {
        var t = ResultTable()
        t.append(method: "frozen", setting: .warm, split: .test, ranks: [20, 20, 20, 20])
        t.append(method: "tuned", setting: .warm, split: .test, ranks: [1, 1, 1, 1])
        t.comparison = RowComparison(reference: "frozen", draws: 10, seed: 1)
        let md = try t.markdown()
        #expect(md.contains("ΔR@10 [95% CI]"))
        #expect(md.contains("+1.0000 [+1.0000, +1.0000]"), "\(md)")
        #expect(md.contains(" ref |"))
        let json = try JSONSerialization.jsonObject(with: try t.json()) as! [[String: Any]]
        #expect(json[1]["ΔRecall@10"] as? [Double] == [1, 1, 1])
        #expect(json[1]["reference"] as? String == "frozen")
        t.comparison = RowComparison(reference: "nothing")
        #expect(throws: BootstrapError.self) { try t.checkReference() }
        #expect(t.ranksTSV { _, _ in ["u1", "u2", "u3", "u4"] }.contains("tuned\twarm\ttest\tu2\t1\n"))
    }
}
