// ShardedScoring: ranks and top-k with the users split over the ranks of an MPI job, results on every rank.
import Foundation
import RecAlignTensor

/// Under MPI, `Evaluator.ranks` and `TopK.search` (their array forms) score only this rank's contiguous share
/// of the users (queries) against the whole catalog, then all-gather the per-user results in user order: every
/// rank ends with the single process's answer, exactly (a user's rank and top-k depend on that user's row
/// alone). Cost per rank: 1/N of the scoring; traffic: one Int32 per user (ranks), k ids and scores per user.
enum ShardedScoring {
    /// This rank's users of `n`.
    static func share(_ n: Int) -> Range<Int> { Parallel.share(n, worker: Cluster.rank, of: Cluster.size) }

    /// Per-rank counts of `n` users times `perUser` values.
    static func counts(_ n: Int, _ perUser: Int) -> [Int] {
        (0..<Cluster.size).map { Parallel.share(n, worker: $0, of: Cluster.size).count * perUser }
    }

    /// `values` (this rank's share, `perUser` each) gathered from every rank in user order.
    static func gather(_ values: [Float], users n: Int, perUser: Int) -> [Float] {
        var all = [Float](repeating: 0, count: n * perUser)
        values.withUnsafeBufferPointer { v in
            all.withUnsafeMutableBufferPointer { Cluster.allGather(v.baseAddress!, counts: counts(n, perUser), into: $0.baseAddress!) }
        }
        return all
    }

    static func ranks(users: UnsafeBufferPointer<Float>, items: UnsafeBufferPointer<Float>, dim: Int, targets: [Int],
                      exclude: [[Int32]]?, blockItems: Int, userBatch: Int, threads: Int, term: ScoreTerm?) throws -> [Int] {
        let n = targets.count
        let mine = share(n)
        let first = mine.lowerBound
        let part = try Evaluator.ranks(users: UnsafeBufferPointer(rebasing: users[(mine.lowerBound * dim)..<(mine.upperBound * dim)]),
                                       items: items, dim: dim, targets: Array(targets[mine]), exclude: exclude.map { Array($0[mine]) },
                                       blockItems: blockItems, userBatch: userBatch, threads: threads,
                                       term: term.map { t in { @Sendable u, out in t(first + u, out) } })
        // Ranks travel as the bit patterns of Int32 (exact at any catalog size).
        let bits = part.map { Float(bitPattern: UInt32(bitPattern: Int32(truncatingIfNeeded: $0))) }
        return gather(bits, users: n, perUser: 1).map { Int(Int32(bitPattern: $0.bitPattern)) }
    }

    static func search(queries: UnsafeBufferPointer<Float>, items: UnsafeBufferPointer<Float>, dim: Int, k: Int,
                       exclude: [[Int32]]?, blockItems: Int, queryBatch: Int, threads: Int, term: ScoreTerm?) throws -> TopKResult {
        let n = queries.count / dim
        let mine = share(n)
        let first = mine.lowerBound
        let part = try TopK.search(queries: UnsafeBufferPointer(rebasing: queries[(mine.lowerBound * dim)..<(mine.upperBound * dim)]),
                                   items: items, dim: dim, k: k, exclude: exclude.map { Array($0[mine]) },
                                   blockItems: blockItems, queryBatch: queryBatch, threads: threads,
                                   term: term.map { t in { @Sendable q, out in t(first + q, out) } })
        let rows = gather(part.rows.map { Float(bitPattern: UInt32(bitPattern: $0)) }, users: n, perUser: k)
        let scores = gather(part.scores, users: n, perUser: k)
        return TopKResult(queries: n, k: k, rows: rows.map { Int32(bitPattern: $0.bitPattern) }, scores: scores)
    }

    /// True when the `count / dim` users should be split: under MPI, with valid shapes and one exclusion list per
    /// user (anything else is reported by the unsplit call).
    static func applies(_ count: Int, dim: Int, users: Int, exclude: [[Int32]]?) -> Bool {
        Cluster.isDistributed && dim > 0 && count % dim == 0 && users == count / dim && users >= Cluster.size
            && (exclude == nil || exclude!.count == users)
    }
}

/// Exact top-k with the catalog split over the ranks (`--shard-items`): rank r holds only items
/// [first, first + slice rows) of the whole. Every rank searches every query against its slice, re-scores its k
/// best in Double, and the ranks' lists are all-gathered and merged per query by score descending, then item
/// row ascending: the single process's order (`TopK` orders its final k the same way). Traffic: k (row, score)
/// pairs per query per rank; memory: the slice.
public enum ItemShardedTopK {
    /// This rank's rows of a catalog of `items` rows.
    public static func slice(items: Int) -> Range<Int> { Parallel.share(items, worker: Cluster.rank, of: Cluster.size) }

    /// `queries` [nq, dim] against this rank's `slice` [rows, dim] (rows `first...` of the whole); `exclude` holds
    /// rows of the whole. Returns the merged top-k of the whole catalog on every rank.
    public static func search(queries: [Float], slice: [Float], first: Int, dim: Int, k: Int,
                              exclude: [[Int32]]? = nil) throws -> TopKResult {
        let nq = queries.count / max(1, dim), rows = slice.count / max(1, dim)
        // Exclusions of the whole, moved into the slice's numbering.
        let local = exclude?.map { $0.compactMap { r -> Int32? in
            let l = Int(r) - first
            return l >= 0 && l < rows ? Int32(l) : nil
        } }
        let part = try TopK.search(queries: queries, items: slice, dim: dim, k: k, exclude: local, threads: Parallel.workers,
                                   shardUsers: false)
        // Three floats per entry: the row's bits and the Double score as two floats' bits.
        var mine = [Float](repeating: 0, count: nq * k * 3)
        queries.withUnsafeBufferPointer { qs in
            slice.withUnsafeBufferPointer { items in
                for q in 0..<nq {
                    for j in 0..<k {
                        let r = part.rows[q * k + j]
                        let score = r >= 0 ? exactDot(qs.baseAddress! + q * dim, items.baseAddress! + Int(r) * dim, dim) : -.infinity
                        let bits = score.bitPattern
                        let o = (q * k + j) * 3
                        mine[o] = Float(bitPattern: UInt32(bitPattern: r >= 0 ? r + Int32(first) : -1))
                        mine[o + 1] = Float(bitPattern: UInt32(truncatingIfNeeded: bits >> 32))
                        mine[o + 2] = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
                    }
                }
            }
        }
        let size = Cluster.size
        var all = [Float](repeating: 0, count: mine.count * size)
        mine.withUnsafeBufferPointer { m in
            all.withUnsafeMutableBufferPointer { Cluster.allGather(m.baseAddress!, counts: [Int](repeating: mine.count, count: size), into: $0.baseAddress!) }
        }
        var result = TopKResult(queries: nq, k: k, rows: [Int32](repeating: -1, count: nq * k),
                                scores: [Float](repeating: -.infinity, count: nq * k))
        var entries: [(row: Int32, score: Double)] = []
        for q in 0..<nq {
            entries.removeAll(keepingCapacity: true)
            for rank in 0..<size {
                for j in 0..<k {
                    let o = rank * mine.count + (q * k + j) * 3
                    let row = Int32(bitPattern: all[o].bitPattern)
                    guard row >= 0 else { continue }
                    let bits = UInt64(all[o + 1].bitPattern) << 32 | UInt64(all[o + 2].bitPattern)
                    entries.append((row, Double(bitPattern: bits)))
                }
            }
            entries.sort { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
            for (j, e) in entries.prefix(k).enumerated() {
                result.rows[q * k + j] = e.row
                result.scores[q * k + j] = Float(e.score)
            }
        }
        return result
    }
}
