// BaselineTests: popularity and item-kNN on a tiny hand-computed interaction matrix.
import Foundation
import Testing
@testable import RecAlignRetrieval

/// 4 users x 5 items: u0 {0,1,2}, u1 {0,1}, u2 {1,3}, u3 {2,3}; item 4 never seen.
/// Users per item: 0 {u0,u1}, 1 {u0,u1,u2}, 2 {u0,u3}, 3 {u2,u3}.
/// Cosine: s01 = 2/sqrt(6) = 0.81650, s02 = 1/2, s12 = s13 = 1/sqrt(6) = 0.40825, s23 = 1/2, s03 = 0.
/// Top-2 neighbours: 0 -> [1, 2]; 1 -> [0, 2] (2 and 3 tie, lower row); 2 -> [0, 3] (tie); 3 -> [2, 1]; 4 -> [].
let tinyTrain: [[Int]] = [[0, 1, 2], [0, 1], [1, 3], [2, 3]]

@Suite struct BaselineTests {
    @Test func popularityCountsAndRanks() throws {
        let pop = try Popularity(trainHistories: tinyTrain, itemCount: 5)
        #expect(pop.counts == [2, 3, 2, 2, 0])
        // Target 2 with 0, 1 excluded: no higher, tie row 0 excluded -> 1. Target 3: 1 higher, ties 0, 2 -> 4.
        // Target 4: all four higher -> 5; with 1 and 3 excluded -> 3.
        let ranks = try pop.ranks(targets: [2, 3, 4, 4], exclude: [[0, 1], [], [], [1, 3]])
        #expect(ranks == [1, 4, 5, 3])
        #expect(throws: RetrievalError.self) { try Popularity(trainHistories: [[5]], itemCount: 5) }
    }

    @Test func itemKNNNeighboursAndScores() throws {
        let knn = try ItemKNN(trainHistories: tinyTrain, itemCount: 5, k: 2)
        let s6 = Float(1 / 6.0.squareRoot()), s01 = Float(2 / 6.0.squareRoot())
        func near(_ a: [(item: Int, similarity: Float)], _ b: [(Int, Float)]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { $0.item == $1.0 && abs($0.similarity - $1.1) < 1e-5 }
        }
        #expect(near(knn.neighbours(of: 0), [(1, s01), (2, 0.5)]))
        #expect(near(knn.neighbours(of: 1), [(0, s01), (2, s6)]))
        #expect(near(knn.neighbours(of: 2), [(0, 0.5), (3, 0.5)]))
        #expect(near(knn.neighbours(of: 3), [(2, 0.5), (1, s6)]))
        #expect(knn.neighbours(of: 4).isEmpty)

        var out = [Float](repeating: 9, count: 5)
        out.withUnsafeMutableBufferPointer { knn.scores(history: [0, 0], into: $0) }
        // i=1 keeps 0 (s01), i=2 keeps 0 (0.5); 3 and 4 do not keep 0; the item itself scores 0.
        #expect(zip(out, [0, s01, 0.5, 0, 0]).allSatisfy { abs($0 - $1) < 1e-5 })
        out.withUnsafeMutableBufferPointer { knn.scores(history: [1, 3], into: $0) }
        // i=0 keeps 1 (s01); i=1 keeps neither 1 nor 3; i=2 keeps 3 (0.5); i=3 keeps 1 (s6).
        #expect(zip(out, [s01, 0, 0.5, s6, 0]).allSatisfy { abs($0 - $1) < 1e-5 })

        // History [1, 3], target 2 (0.5), item 0 excluded: no higher -> 1; not excluded -> 2.
        // History [0], target 4 (0): items 1 and 2 higher, ties 0 and 3 at lower rows -> 5; exclude 0 -> 4.
        let ranks = try knn.ranks(histories: [[1, 3], [1, 3], [0], [0]], targets: [2, 2, 4, 4],
                                  exclude: [[0], [], [], [0]])
        #expect(ranks == [1, 2, 5, 4])
    }

    @Test func itemKNNKeepsAllNeighboursWithLargeK() throws {
        let knn = try ItemKNN(trainHistories: tinyTrain, itemCount: 5, k: 20)
        #expect(knn.neighbours(of: 1).map(\.item) == [0, 2, 3])   // zero similarities dropped
        #expect(knn.neighbours(of: 0).map(\.item) == [1, 2])
    }
}
