// Baselines: popularity and item-kNN scores from the binary user-item train matrix, for the metric tables.
import Foundation
import RecAlignTensor

/// Most-popular baseline (RecBole `Pop`): score(u, i) = number of train interactions of item i over all
/// users, the same for every user; equal counts are ordered by the protocol's tie rule (lower row first).
public struct Popularity: Sendable, Equatable {
    /// Train interaction count per item row.
    public let counts: [Float]

    /// Counts every (user, item) entry of `trainHistories` (item rows; one list per user).
    public init(trainHistories: [[Int]], itemCount: Int) throws {
        var c = [Float](repeating: 0, count: itemCount)
        for (u, h) in trainHistories.enumerated() {
            for i in h {
                guard i >= 0 && i < itemCount else {
                    throw RetrievalError.invalid(field: "trainHistories[\(u)]", reason: "row \(i) outside 0..<\(itemCount)")
                }
                c[i] += 1
            }
        }
        counts = c
    }

    /// Writes the scores of all items (independent of the user) into `out` (`itemCount` floats).
    public func scores(into out: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< min(out.count, counts.count) { out[i] = counts[i] }
    }

    /// Protocol ranks of one target per user (exclusions as in `Evaluator`).
    public func ranks(targets: [Int], exclude: [[Int32]]?) throws -> [Int] {
        try Evaluator.ranks(userCount: targets.count, itemCount: counts.count, targets: targets, exclude: exclude,
                            threads: 1) { _, out in scores(into: out) }
    }
}

/// Item-kNN baseline, RecBole's `ItemKNN` (`ComputeSimilarity(..., method: 'item')`) convention:
///
/// * R = binary user x item train matrix (a user's repeated items count once).
/// * sim(i, j) = (R[:, i] . R[:, j]) / (|R[:, i]| |R[:, j]| + shrink + 1e-6) for j != i (cosine; self-similarity
///   is 0). Computed in Double, stored as Float.
/// * Pruning: for every item i keep its `k` most similar items j (similarity descending, ties by lower row;
///   zero similarities are dropped). This is column i of the sparse matrix W: W[j, i] = sim(i, j).
/// * score(u, i) = h_u . W[:, i] = sum over the distinct items j of the user's history (the visible history
///   given at evaluation) such that j is among i's top-k neighbours, of sim(i, j).
///   Items with no such neighbour score 0 (ties then go by row).
public struct ItemKNN: Sendable {
    public let itemCount: Int
    public let k: Int
    public let shrink: Double
    // Column i of W (i's own top-k list), CSR by i, sorted by similarity descending then row.
    let colOffsets: [Int]
    let colItems: [Int32]
    let colSims: [Float]
    // Row j of W: the items i that keep j among their neighbours, with sim(i, j). CSR by j.
    let rowOffsets: [Int]
    let rowItems: [Int32]
    let rowSims: [Float]

    /// Fits the pruned similarity matrix from per-user train item rows.
    public init(trainHistories: [[Int]], itemCount: Int, k: Int = 20, shrink: Double = 0, threads: Int = Parallel.workers) throws {
        guard k >= 1 else { throw RetrievalError.invalid(field: "k", reason: "must be >= 1, got \(k)") }
        guard shrink >= 0 else { throw RetrievalError.invalid(field: "shrink", reason: "must be >= 0") }
        self.itemCount = itemCount; self.k = k; self.shrink = shrink
        // Distinct sorted items per user, and users per item (CSR).
        var userItems: [[Int32]] = []
        userItems.reserveCapacity(trainHistories.count)
        var itemUserCount = [Int](repeating: 0, count: itemCount + 1)
        for (u, h) in trainHistories.enumerated() {
            for i in h where i < 0 || i >= itemCount {
                throw RetrievalError.invalid(field: "trainHistories[\(u)]", reason: "row \(i) outside 0..<\(itemCount)")
            }
            let s = Array(Set(h.map { Int32($0) })).sorted()
            for i in s { itemUserCount[Int(i) + 1] += 1 }
            userItems.append(s)
        }
        for i in 0 ..< itemCount { itemUserCount[i + 1] += itemUserCount[i] }
        var itemUsers = [Int32](repeating: 0, count: itemUserCount[itemCount])
        var fill = itemUserCount
        for (u, s) in userItems.enumerated() { for i in s { itemUsers[fill[Int(i)]] = Int32(u); fill[Int(i)] += 1 } }
        let norms = (0 ..< itemCount).map { Double(itemUserCount[$0 + 1] - itemUserCount[$0]).squareRoot() }

        // Per item i: co-occurrence counts with every j, cosine, top-k. Workers take items i = w, w+nw, ...
        let nw = max(1, min(threads, itemCount))
        var lists = [[(Int32, Float)]](repeating: [], count: itemCount)
        lists.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            let body: (Int) -> Void = { w in
                var co = [Int32](repeating: 0, count: itemCount)
                var touched: [Int32] = []
                var i = w
                while i < itemCount {
                    touched.removeAll(keepingCapacity: true)
                    for p in itemUserCount[i] ..< itemUserCount[i + 1] {
                        for j in userItems[Int(itemUsers[p])] where Int(j) != i {
                            if co[Int(j)] == 0 { touched.append(j) }
                            co[Int(j)] += 1
                        }
                    }
                    var cand: [(Int32, Float)] = touched.map { j in
                        let s = Double(co[Int(j)]) / (norms[i] * norms[Int(j)] + shrink + 1e-6)
                        return (j, Float(s))
                    }
                    for j in touched { co[Int(j)] = 0 }
                    cand.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
                    outBase[i] = Array(cand.prefix(k).filter { $0.1 != 0 })
                    i += nw
                }
            }
            if nw == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: nw, execute: body) }
        }
        var co = [0], ci: [Int32] = [], cs: [Float] = []
        var rowCount = [Int](repeating: 0, count: itemCount + 1)
        for l in lists {
            for (j, s) in l { ci.append(j); cs.append(s); rowCount[Int(j) + 1] += 1 }
            co.append(ci.count)
        }
        for j in 0 ..< itemCount { rowCount[j + 1] += rowCount[j] }
        var ri = [Int32](repeating: 0, count: ci.count), rs = [Float](repeating: 0, count: ci.count)
        var pos = rowCount
        for (i, l) in lists.enumerated() {
            for (j, s) in l { ri[pos[Int(j)]] = Int32(i); rs[pos[Int(j)]] = s; pos[Int(j)] += 1 }
        }
        colOffsets = co; colItems = ci; colSims = cs
        rowOffsets = rowCount; rowItems = ri; rowSims = rs
    }

    /// Item i's kept neighbours (at most k), similarity descending then row ascending.
    public func neighbours(of i: Int) -> [(item: Int, similarity: Float)] {
        (colOffsets[i] ..< colOffsets[i + 1]).map { (Int(colItems[$0]), colSims[$0]) }
    }

    /// Writes score(u, i) for all items into `out` (`itemCount` floats) from a visible history of item rows
    /// (repeats count once; summed in ascending row order, so results are reproducible). Safe to call
    /// concurrently.
    public func scores(history: [Int], into out: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< out.count { out[i] = 0 }
        for j in Array(Set(history)).sorted() where j >= 0 && j < itemCount {
            for p in rowOffsets[j] ..< rowOffsets[j + 1] { out[Int(rowItems[p])] += rowSims[p] }
        }
    }

    /// Protocol ranks of one target per user from visible histories (exclusions as in `Evaluator`).
    public func ranks(histories: [[Int]], targets: [Int], exclude: [[Int32]]?, threads: Int = Parallel.workers) throws -> [Int] {
        guard histories.count == targets.count else {
            throw RetrievalError.shape(field: "histories", reason: "\(histories.count) histories for \(targets.count) targets")
        }
        return try Evaluator.ranks(userCount: targets.count, itemCount: itemCount, targets: targets, exclude: exclude,
                                   threads: threads) { u, out in scores(history: histories[u], into: out) }
    }
}
