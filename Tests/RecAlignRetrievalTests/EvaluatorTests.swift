// EvaluatorTests: protocol ranks (ties, NaN, exclusions) by hand and against brute force; metric values.
import Foundation
import Testing
@testable import RecAlignRetrieval
import RecAlignMetrics

@Suite struct EvaluatorTests {
    init() { parallelMinWork = 0 }   // run the multi-worker paths on these small inputs too

    /// Item scores are the 1-d item values for user [1]: [3, 5, 5, NaN, 2, 5].
    @Test func handComputedRanks() throws {
        let items: [Float] = [3, 5, 5, .nan, 2, 5]
        let users: [Float] = [1, 1, 1, 1, 1, 1]
        let targets = [2, 2, 4, 4, 3, 3]
        let exclude: [[Int32]] = [[], [1], [], [0, 4], [], [5]]
        // t=2 (5): equal row 1 -> 2; row 1 excluded -> 1. t=4 (2): 3,5,5,5 higher -> 5; row 0 excluded and
        // the target's own row ignored -> 4. t=3 (NaN = -inf): all 5 others higher -> 6; row 5 excluded -> 5.
        let expected = [2, 1, 5, 4, 6, 5]
        #expect(try Evaluator.ranks(users: users, items: items, dim: 1, targets: targets, exclude: exclude) == expected)
        let byFunction = try Evaluator.ranks(userCount: 6, itemCount: 6, targets: targets, exclude: exclude) { _, out in
            for i in 0 ..< 6 { out[i] = items[i] }
        }
        #expect(byFunction == expected)
    }

    @Test(arguments: [(1, 4096), (2, 50), (2, 4096)])
    func matchesBruteForceOnTies(threads: Int, block: Int) throws {
        var rng = TestRNG(11)
        let dim = 5, n = 1200, nu = 300
        let items = rng.smallInts(n * dim, r: 1), users = rng.smallInts(nu * dim, r: 2)
        let targets = (0 ..< nu).map { _ in rng.int(n) }
        var exclude = (0 ..< nu).map { _ in rng.sortedSubset(n, fraction: 0.1) }
        exclude[0] = (exclude[0] + [Int32(targets[0])]).sorted().reduce(into: []) { if $0.last != $1 { $0.append($1) } }
        let ranks = try Evaluator.ranks(users: users, items: items, dim: dim, targets: targets, exclude: exclude,
                                        blockItems: block, userBatch: 64, threads: threads)
        for u in 0 ..< nu {
            let s = doubleScores(users[(u * dim) ..< (u * dim + dim)], items: items, dim: dim)
            #expect(ranks[u] == bruteRank(scores: s, target: targets[u], exclude: Set(exclude[u].map(Int.init)).subtracting([targets[u]])))
        }
    }

    /// Float data with duplicated item rows: the tie with the earlier duplicate must count (band resolution).
    @Test func duplicateFloatItemsTie() throws {
        var rng = TestRNG(5)
        let dim = 384, n = 3000, nu = 40
        var items = rng.gaussians(n * dim)
        var targets: [Int] = []
        for u in 0 ..< nu {
            let src = rng.int(n / 2), dst = n / 2 + u * 30
            for k in 0 ..< dim { items[dst * dim + k] = items[src * dim + k] }
            targets.append(dst)
        }
        let users = rng.gaussians(nu * dim)
        let ranks = try Evaluator.ranks(users: users, items: items, dim: dim, targets: targets, exclude: nil,
                                        blockItems: 512, threads: 2)
        for u in 0 ..< nu {
            let s = doubleScores(users[(u * dim) ..< (u * dim + dim)], items: items, dim: dim)
            #expect(ranks[u] == bruteRank(scores: s, target: targets[u], exclude: []))
        }
    }

    /// An additive term [0, 0.5, 0]: user 0 scores [0.5, 0.25, 0.25] + term = [0.5, 0.75, 0.25] -> item 1 first;
    /// user 1 scores [1, 0.5, 0.5] + term = [1, 1, 0.5] -> a tie with row 0, so target 1 ranks 2 (1 with row 0 excluded).
    @Test func termAddsToTheScores() throws {
        let items: [Float] = [0.5, 0, 0.25, 0, 0.25, 0], users: [Float] = [1, 0, 2, 0]
        let term: ScoreTerm = { _, out in out[1] += 0.5 }
        #expect(try Evaluator.ranks(users: users, items: items, dim: 2, targets: [1, 1], exclude: nil, term: term) == [1, 2])
        #expect(try Evaluator.ranks(users: users, items: items, dim: 2, targets: [1, 1], exclude: [[], [0]], term: term) == [1, 1])
    }

    /// A term ranks as the vectors widened by it (user gains the term, item i gains the unit vector e_i), ties included.
    @Test(arguments: [(1, 4096), (2, 50)])
    func termMatchesWidenedVectors(threads: Int, block: Int) throws {
        var rng = TestRNG(17)
        let dim = 4, n = 300, nu = 90
        let items = rng.smallInts(n * dim, r: 1), users = rng.smallInts(nu * dim, r: 2)
        let extra = rng.smallInts(nu * n, r: 1)
        let targets = (0 ..< nu).map { _ in rng.int(n) }
        let exclude = (0 ..< nu).map { _ in rng.sortedSubset(n, fraction: 0.1) }
        let term: ScoreTerm = { u, out in for i in 0 ..< n { out[i] += extra[u * n + i] } }
        let ranks = try Evaluator.ranks(users: users, items: items, dim: dim, targets: targets, exclude: exclude,
                                        blockItems: block, userBatch: 32, threads: threads, term: term)
        let wide = dim + n
        var wu = [Float](repeating: 0, count: nu * wide), wi = [Float](repeating: 0, count: n * wide)
        for u in 0 ..< nu { for k in 0 ..< dim { wu[u * wide + k] = users[u * dim + k] }; for i in 0 ..< n { wu[u * wide + dim + i] = extra[u * n + i] } }
        for i in 0 ..< n { for k in 0 ..< dim { wi[i * wide + k] = items[i * dim + k] }; wi[i * wide + dim + i] = 1 }
        #expect(ranks == (try Evaluator.ranks(users: wu, items: wi, dim: wide, targets: targets, exclude: exclude, threads: threads)))
        for u in 0 ..< nu {
            var s = doubleScores(users[(u * dim) ..< (u * dim + dim)], items: items, dim: dim)
            for i in 0 ..< n { s[i] += Double(extra[u * n + i]) }
            #expect(ranks[u] == bruteRank(scores: s, target: targets[u], exclude: Set(exclude[u].map(Int.init)).subtracting([targets[u]])))
        }
    }

    @Test func nanUserFallsBackToRowOrder() throws {
        let items: [Float] = [1, 0, 0, 1, 1, 1]
        let ranks = try Evaluator.ranks(users: [.nan, 1, 1, 1], items: items, dim: 2, targets: [2, 2],
                                        exclude: [[0], []])
        // User 0: every score NaN = -inf, only row 1 (not excluded) is before row 2. User 1: [1, 1, 2]: rank 1.
        #expect(ranks == [2, 1])
    }

    @Test func metricsOnHandComputedRanks() {
        #expect(RankMetrics.ndcg(rank: 1, k: 10) == 1)
        #expect(RankMetrics.ndcg(rank: 3, k: 10) == 0.5)
        #expect(RankMetrics.ndcg(rank: 11, k: 10) == 0)
        #expect(RankMetrics.mrr(rank: 4, k: 10) == 0.25)
        let m = MetricSummary(ranks: [1, 3, 11, 60])
        #expect(m.users == 4)
        #expect(m.recall10 == 0.5)
        #expect(abs(m.ndcg10 - 1.5 / 4) < 1e-12)
        #expect(abs(m.mrr10 - (1 + 1.0 / 3) / 4) < 1e-12)
        #expect(m.recall50 == 0.75)
    }

    @Test func badTargetsThrow() {
        #expect(throws: RetrievalError.self) {
            try Evaluator.ranks(users: [1], items: [1, 2], dim: 1, targets: [2], exclude: nil)
        }
        #expect(throws: RetrievalError.self) {
            try Evaluator.ranks(users: [1], items: [1, 2], dim: 1, targets: [0, 1], exclude: nil)
        }
    }
}
