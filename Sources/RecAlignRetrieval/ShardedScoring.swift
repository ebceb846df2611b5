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
                      exclude: [[Int32]]?, blockItems: Int, userBatch: Int, threads: Int) throws -> [Int] {
        let n = targets.count
        let mine = share(n)
        let part = try Evaluator.ranks(users: UnsafeBufferPointer(rebasing: users[(mine.lowerBound * dim)..<(mine.upperBound * dim)]),
                                       items: items, dim: dim, targets: Array(targets[mine]), exclude: exclude.map { Array($0[mine]) },
                                       blockItems: blockItems, userBatch: userBatch, threads: threads)
        // Ranks travel as the bit patterns of Int32 (exact at any catalog size).
        let bits = part.map { Float(bitPattern: UInt32(bitPattern: Int32(truncatingIfNeeded: $0))) }
        return gather(bits, users: n, perUser: 1).map { Int(Int32(bitPattern: $0.bitPattern)) }
    }

    static func search(queries: UnsafeBufferPointer<Float>, items: UnsafeBufferPointer<Float>, dim: Int, k: Int,
                       exclude: [[Int32]]?, blockItems: Int, queryBatch: Int, threads: Int) throws -> TopKResult {
        let n = queries.count / dim
        let mine = share(n)
        let part = try TopK.search(queries: UnsafeBufferPointer(rebasing: queries[(mine.lowerBound * dim)..<(mine.upperBound * dim)]),
                                   items: items, dim: dim, k: k, exclude: exclude.map { Array($0[mine]) },
                                   blockItems: blockItems, queryBatch: queryBatch, threads: threads)
        let rows = gather(part.rows.map { Float(bitPattern: UInt32(bitPattern: $0)) }, users: n, perUser: k)
        let scores = gather(part.scores, users: n, perUser: k)
        return TopKResult(queries: n, k: k, rows: rows.map { Int32(bitPattern: $0.bitPattern) }, scores: scores)
    }

    /// True when the users should be split: under MPI, with valid shapes (errors are reported unsplit).
    static func applies(_ count: Int, dim: Int, users: Int) -> Bool {
        Cluster.isDistributed && dim > 0 && count % dim == 0 && users == count / dim && users >= Cluster.size
    }
}
