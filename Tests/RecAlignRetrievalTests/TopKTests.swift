// TopKTests: exact top-k against a brute-force sort (ties, exclusions, NaN, k beyond the available items).
import Testing
@testable import RecAlignRetrieval

@Suite struct TopKTests {
    init() { parallelMinWork = 0 }   // run the multi-worker paths on these small inputs too

    /// Small-integer vectors give many exact ties; blocks and two workers cut the items at odd places.
    @Test(arguments: [(1, 4096), (2, 96), (2, 4096), (1, 33)])
    func matchesBruteForceWithTiesAndExclusions(threads: Int, block: Int) throws {
        var rng = TestRNG(7)
        let dim = 6, n = 2500, nq = 41, k = 17
        let items = rng.smallInts(n * dim, r: 1), queries = rng.smallInts(nq * dim, r: 2)
        let exclude = (0 ..< nq).map { _ in rng.sortedSubset(n, fraction: 0.2) }
        let res = try TopK.search(queries: queries, items: items, dim: dim, k: k, exclude: exclude,
                                  blockItems: block, queryBatch: 16, threads: threads)
        for q in 0 ..< nq {
            let s = doubleScores(queries[(q * dim) ..< (q * dim + dim)], items: items, dim: dim)
            let ref = bruteTopK(scores: s, k: k, exclude: Set(exclude[q].map(Int.init)))
            #expect(Array(res.rows(query: q)) == ref.map { Int32($0.0) })
            #expect(Array(res.scores(query: q)) == ref.map { Float($0.1) })
        }
    }

    /// An additive term (small integers: exact in float and Double) ranks as brute force over dot + term, with
    /// ties by row, for one and two workers and blocks cutting the items at odd places.
    @Test(arguments: [(1, 4096), (2, 96)])
    func aTermAddsToTheScores(threads: Int, block: Int) throws {
        var rng = TestRNG(11)
        let dim = 5, n = 700, nq = 19, k = 12
        let items = rng.smallInts(n * dim, r: 1), queries = rng.smallInts(nq * dim, r: 2)
        let table = rng.smallInts(nq * n, r: 3)
        let exclude = (0 ..< nq).map { _ in rng.sortedSubset(n, fraction: 0.1) }
        let term: ScoreTerm = { q, out in for i in 0 ..< n { out[i] += table[q * n + i] } }
        let res = try TopK.search(queries: queries, items: items, dim: dim, k: k, exclude: exclude,
                                  blockItems: block, queryBatch: 7, threads: threads, term: term)
        for q in 0 ..< nq {
            var s = doubleScores(queries[(q * dim) ..< (q * dim + dim)], items: items, dim: dim)
            for i in 0 ..< n { s[i] += Double(table[q * n + i]) }
            let ref = bruteTopK(scores: s, k: k, exclude: Set(exclude[q].map(Int.init)))
            #expect(Array(res.rows(query: q)) == ref.map { Int32($0.0) })
            #expect(Array(res.scores(query: q)) == ref.map { Float($0.1) })
        }
    }

    @Test func kBeyondAvailableItemsPads() throws {
        // 1-d items: scores are the item values. Rows 1 and 3 excluded for query 0.
        let items: [Float] = [2, 9, 2, 7, .nan]
        let res = try TopK.search(queries: [1, -1], items: items, dim: 1, k: 6, exclude: [[1, 3], []])
        #expect(res.count(query: 0) == 3)
        #expect(Array(res.rows(query: 0)) == [0, 2, 4])             // tie 2 = 2 by row; NaN last as -inf
        #expect(Array(res.scores(query: 0)) == [2, 2, -.infinity])
        #expect(Array(res.rows[0 ..< 6]) == [0, 2, 4, -1, -1, -1])
        #expect(Array(res.rows(query: 1)) == [0, 2, 3, 1, 4])       // -2, -2, -7, -9, NaN
        #expect(Array(res.scores(query: 1)) == [-2, -2, -7, -9, -.infinity])
    }

    @Test func nanItemsRankBelowEverything() throws {
        var rng = TestRNG(3)
        let dim = 4, n = 300
        var items = rng.smallInts(n * dim, r: 2)
        for r in stride(from: 0, to: n, by: 7) { items[r * dim] = .nan }
        let queries = rng.smallInts(5 * dim, r: 2)
        let res = try TopK.search(queries: queries, items: items, dim: dim, k: 290, blockItems: 64, threads: 2)
        // Half the items NaN: k reaches into the NaN (-inf) rows, which must come in row order.
        var half = items
        for r in stride(from: 0, to: n, by: 2) { half[r * dim + 1] = .nan }
        let resHalf = try TopK.search(queries: queries, items: half, dim: dim, k: 200, blockItems: 16, threads: 2)
        for q in 0 ..< 5 {
            let sh = doubleScores(queries[(q * dim) ..< (q * dim + dim)], items: half, dim: dim)
            #expect(Array(resHalf.rows(query: q)) == bruteTopK(scores: sh, k: 200, exclude: []).map { Int32($0.0) })
        }
        for q in 0 ..< 5 {
            let s = doubleScores(queries[(q * dim) ..< (q * dim + dim)], items: items, dim: dim)
            let ref = bruteTopK(scores: s, k: 290, exclude: [])
            #expect(Array(res.rows(query: q)) == ref.map { Int32($0.0) })
        }
    }

    /// Float data: an item duplicated into another block and worker must tie with its original and follow it.
    @Test func duplicateFloatItemsAcrossBlocksTie() throws {
        var rng = TestRNG(9)
        let dim = 64, n = 5000, nq = 8
        var items = rng.gaussians(n * dim)
        let queries = rng.gaussians(nq * dim)
        // Make each query's best item a known row, then copy it to a far row in another block / worker.
        for q in 0 ..< nq {
            let src = 100 + q, dst = 4000 + q * 7
            for k in 0 ..< dim { items[src * dim + k] = 3 * queries[q * dim + k] }
            for k in 0 ..< dim { items[dst * dim + k] = items[src * dim + k] }
        }
        let res = try TopK.search(queries: queries, items: items, dim: dim, k: 5, blockItems: 333, threads: 2)
        for q in 0 ..< nq {
            let s = doubleScores(queries[(q * dim) ..< (q * dim + dim)], items: items, dim: dim)
            let ref = bruteTopK(scores: s, k: 5, exclude: [])
            #expect(Array(res.rows(query: q)) == ref.map { Int32($0.0) })
            #expect(Array(res.rows(query: q).prefix(2)) == [Int32(100 + q), Int32(4000 + q * 7)])
            #expect(res.scores[q * 5] == res.scores[q * 5 + 1])
        }
    }

    @Test func emptyAndBadInputs() throws {
        let r = try TopK.search(queries: [], items: [1, 2], dim: 2, k: 3)
        #expect(r.queries == 0 && r.rows.isEmpty)
        #expect(throws: RetrievalError.self) { try TopK.search(queries: [1, 2, 3], items: [1, 2], dim: 2, k: 1) }
        #expect(throws: RetrievalError.self) {
            try TopK.search(queries: [1, 2], items: [1, 2, 3, 4], dim: 2, k: 1, exclude: [[1, 0]])
        }
        #expect(throws: RetrievalError.self) {
            try TopK.search(queries: [1, 2], items: [1, 2, 3, 4], dim: 2, k: 1, exclude: [[5]])
        }
    }
}
