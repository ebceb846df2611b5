// Evaluator: the protocol rank of one target per user over all items, by blocked GEMM and a counting pass.
import Foundation
import RecAlignMetrics
import RecAlignTensor

/// Full-ranking evaluation (PROTOCOL.md section 4): rank = 1 + #(non-excluded items with a higher score)
/// + #(non-excluded items with an equal score and a lower row); NaN counts as -inf; the target is never
/// excluded (a target row inside its user's exclusion list is ignored there).
public enum Evaluator {
    /// Ranks of `targets[u]` for every user, scoring user vectors against item vectors by dot product.
    ///
    /// One pass over blocked GEMM scores, no sort: before the pass each user's target score is estimated
    /// by a float dot product `t`; items scoring above `t + eps` are counted, items below `t - eps` dropped,
    /// and the few items inside the band (where float rounding of different summation orders could decide)
    /// are kept and resolved after the pass by re-scoring them and the target in Double (products of
    /// floats are exact in Double), so items with identical vectors tie exactly whatever GEMM block they
    /// were in. `eps` = 2.4e-7 * dim * |u| * max|item|, about four times the worst-case float rounding
    /// error of a dim-term dot product. A user whose estimate is not finite is resolved in Double over
    /// all items.
    ///
    /// - Parameters:
    ///   - users: row-major `U x dim`; `items`: row-major `N x dim`.
    ///   - targets: one target item row per user.
    ///   - exclude: nil or one strictly ascending list of item rows per user (train items, validation item).
    ///   - threads: workers (default: the machine's cores, `Parallel.workers`), each taking whole user
    ///     batches with a single-threaded GEMM.
    ///   - term: nil, or an additive score term: `term(u, out)` adds user `u`'s term for every item row to `out`
    ///     (N floats, zeroed), and user u's score of item i is `u·i + out[i]` (a head's transition term, without
    ///     widening the vectors by N coordinates). Called concurrently for different users; each worker holds
    ///     its batch's terms (userBatch x N floats). The band widens by the rounding of that sum and band items
    ///     are re-scored as the Double dot product plus the float term.
    public static func ranks(users: UnsafeBufferPointer<Float>, items: UnsafeBufferPointer<Float>, dim: Int,
                             targets: [Int], exclude: [[Int32]]?, blockItems: Int = 16384, userBatch: Int = 256,
                             threads: Int = Parallel.workers, term: ScoreTerm? = nil) throws -> [Int] {
        let nu = try Check.rows(users.count, dim: dim, field: "users")
        let ni = try Check.rows(items.count, dim: dim, field: "items")
        try Check.targets(targets, rows: nu, items: ni)
        try Check.positive(blockItems, userBatch, field: "blockItems/userBatch")
        let ex = try Check.sortedRows(exclude, rows: nu, items: ni)
        if nu == 0 { return [] }
        var maxItemNorm: Float = 0
        for i in 0 ..< ni {
            maxItemNorm = max(maxItemNorm, BLAS.norm(items.baseAddress! + i * dim, count: dim))
        }
        let ub = min(userBatch, nu), nb = min(blockItems, ni)
        let batches = (nu + ub - 1) / ub
        let nw = max(1, min(threads, batches, Double(nu) * Double(ni) * Double(dim) < parallelMinWork ? 1 : threads))
        var ranks = [Int](repeating: 0, count: nu)
        ranks.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            BLASThreads.singleThreaded(if: nw) {
                let body: (Int) -> Void = { w in
                    let buf = UnsafeMutablePointer<Float>.allocate(capacity: ub * nb)
                    let terms = ScoreTermRows(term, rows: ub, items: ni)
                    defer { buf.deallocate(); terms.deallocate() }
                    var state = [UserCount](repeating: UserCount(), count: ub)
                    var b = w
                    while b < batches {
                        let u0 = b * ub, m = min(ub, nu - u0)
                        for i in 0 ..< m {
                            let u = u0 + i, up = users.baseAddress! + u * dim
                            let bound = BLAS.norm(up, count: dim) * maxItemNorm
                            var t = BLAS.dot(up, items.baseAddress! + targets[u] * dim, count: dim)
                            var eps = 2.4e-7 * Float(dim) * bound
                            if let row = terms.fill(i, query: u) {
                                var maxTerm: Float = 0
                                for j in 0 ..< ni { maxTerm = max(maxTerm, abs(row[j])) }
                                t += row[targets[u]]
                                eps += 2.4e-7 * (bound + maxTerm)
                            }
                            state[i].start(estimate: t, eps: eps)
                        }
                        var j0 = 0
                        while j0 < ni {
                            let n = min(nb, ni - j0)
                            BLAS.gemm(transA: false, transB: true, m: m, n: n, k: dim,
                                      a: users.baseAddress! + u0 * dim, lda: dim,
                                      b: items.baseAddress! + j0 * dim, ldb: dim, beta: 0, c: buf, ldc: n)
                            terms.add(to: buf, rows: m, from: j0, count: n)
                            for i in 0 ..< m {
                                state[i].scan(scores: buf + i * n, count: n, firstRow: j0, target: targets[u0 + i],
                                              exclude: ex.list(u0 + i))
                            }
                            j0 += n
                        }
                        for i in 0 ..< m {
                            outBase[u0 + i] = state[i].finish(user: users.baseAddress! + (u0 + i) * dim,
                                                              items: items.baseAddress!, dim: dim,
                                                              target: targets[u0 + i], exclude: ex.list(u0 + i),
                                                              term: terms.row(i).map { UnsafePointer($0) })
                        }
                        b += nw
                    }
                }
                if nw == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: nw, execute: body) }
            }
        }
        return ranks
    }

    /// Array form of `ranks(users:items:dim:targets:exclude:blockItems:userBatch:threads:term:)`.
    public static func ranks(users: [Float], items: [Float], dim: Int, targets: [Int], exclude: [[Int32]]?,
                             blockItems: Int = 16384, userBatch: Int = 256, threads: Int = Parallel.workers,
                             term: ScoreTerm? = nil) throws -> [Int] {
        try users.withUnsafeBufferPointer { u in
            try items.withUnsafeBufferPointer { i in
                // Under MPI each rank scores its share of the users (`ShardedScoring`).
                ShardedScoring.applies(users.count, dim: dim, users: targets.count, exclude: exclude)
                    ? try ShardedScoring.ranks(users: u, items: i, dim: dim, targets: targets, exclude: exclude,
                                               blockItems: blockItems, userBatch: userBatch, threads: threads, term: term)
                    : try ranks(users: u, items: i, dim: dim, targets: targets, exclude: exclude,
                                blockItems: blockItems, userBatch: userBatch, threads: threads, term: term)
            }
        }
    }

    /// Metric averages of `ranks(users:items:dim:targets:exclude:)`.
    public static func evaluate(users: [Float], items: [Float], dim: Int, targets: [Int],
                                exclude: [[Int32]]?, threads: Int = Parallel.workers) throws -> MetricSummary {
        MetricSummary(ranks: try ranks(users: users, items: items, dim: dim, targets: targets, exclude: exclude,
                                       threads: threads))
    }

    /// Ranks under an arbitrary score function (baselines): `score(u, out)` writes the scores of user `u`
    /// for all `itemCount` items into `out`. With `threads > 1`, `score` is called concurrently from
    /// several threads (for different users) and must be safe for that.
    public static func ranks(userCount: Int, itemCount: Int, targets: [Int], exclude: [[Int32]]?,
                             threads: Int = 1,
                             score: (Int, UnsafeMutableBufferPointer<Float>) -> Void) throws -> [Int] {
        try Check.targets(targets, rows: userCount, items: itemCount)
        let ex = try Check.sortedRows(exclude, rows: userCount, items: itemCount)
        var ranks = [Int](repeating: 0, count: userCount)
        let nw = max(1, min(threads, userCount))
        ranks.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            let body: (Int) -> Void = { w in
                let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: itemCount)
                defer { buf.deallocate() }
                var u = w
                while u < userCount {
                    buf.update(repeating: 0)
                    score(u, buf)
                    outBase[u] = rank(scores: UnsafeBufferPointer(buf), target: targets[u], exclude: ex.list(u))
                    u += nw
                }
            }
            withoutActuallyEscaping(body) { body in
                if nw == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: nw, execute: body) }
            }
        }
        return ranks
    }

    /// Exact protocol rank of `target` in `scores` with a strictly ascending exclusion list.
    public static func rank(scores: UnsafeBufferPointer<Float>, target: Int,
                            exclude: UnsafeBufferPointer<Int32>) -> Int {
        let t = clean(scores[target])
        var r = 1
        for i in 0 ..< scores.count where i != target {
            let s = clean(scores[i])
            if s > t || (s == t && i < target) { r += 1 }
        }
        for e in exclude where Int(e) != target {
            let s = clean(scores[Int(e)])
            if s > t || (s == t && Int(e) < target) { r -= 1 }
        }
        return r
    }
}

@inline(__always) func clean(_ x: Float) -> Float { x.isNaN ? -.infinity : x }

/// One user's counting state during an `Evaluator` pass.
struct UserCount {
    var above = 0
    var lo: Float = 0, hi: Float = 0
    var exact = false
    var bandRows: [Int32] = []

    mutating func start(estimate t: Float, eps: Float) {
        above = 0
        bandRows.removeAll(keepingCapacity: true)
        exact = !t.isFinite || !eps.isFinite
        lo = t - eps; hi = t + eps
    }

    /// Counts one block of scores for rows `firstRow ..< firstRow + count` (blocks come in row order).
    @inline(__always)
    mutating func scan(scores s: UnsafePointer<Float>, count n: Int, firstRow: Int, target: Int,
                       exclude: UnsafeBufferPointer<Int32>) {
        if exact {
            for i in 0 ..< n { bandRows.append(Int32(firstRow + i)) }
            return
        }
        let hv = SIMD16<Float>(repeating: hi), lv = SIMD16<Float>(repeating: lo)
        var acc = SIMD16<Int32>(repeating: 0)
        let one = SIMD16<Int32>(repeating: 1), zero = SIMD16<Int32>(repeating: 0)
        let raw = UnsafeRawPointer(s)
        var i = 0
        while i + 16 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let up = v .> hv
            acc &+= zero.replacing(with: one, where: up)
            if any((v .>= lv) .& .!up) {
                for j in i ..< i + 16 where s[j] >= lo && s[j] <= hi {
                    bandRows.append(Int32(firstRow + j))
                }
            }
            i += 16
        }
        above += Int(acc.wrappedSum())
        while i < n {
            if s[i] > hi { above += 1 } else if s[i] >= lo { bandRows.append(Int32(firstRow + i)) }
            i += 1
        }
        // Excluded rows of this block that were counted above are taken back out.
        if !exclude.isEmpty {
            var lo = 0, hiIdx = exclude.count
            while lo < hiIdx { let mid = (lo + hiIdx) >> 1; if Int(exclude[mid]) < firstRow { lo = mid + 1 } else { hiIdx = mid } }
            var e = lo
            while e < exclude.count && Int(exclude[e]) < firstRow + n {
                let r = Int(exclude[e])
                if r != target && s[r - firstRow] > hi { above -= 1 }
                e += 1
            }
        }
    }

    /// Final rank once every block was seen: band items against the target, both scored in Double.
    /// `term`: the user's additive term per item row, or nil.
    func finish(user: UnsafePointer<Float>, items: UnsafePointer<Float>, dim: Int, target: Int,
                exclude: UnsafeBufferPointer<Int32>, term: UnsafePointer<Float>? = nil) -> Int {
        var r = 1 + above
        if bandRows.isEmpty { return r }
        func score(_ row: Int) -> Double {
            let s = exactDot(user, items + row * dim, dim) + (term.map { Double($0[row]) } ?? 0)
            return s.isNaN ? -.infinity : s
        }
        let t = score(target)
        for row in bandRows where Int(row) != target {
            let s = score(Int(row))
            if s > t || (s == t && Int(row) < target) {
                if !exclude.isEmpty && sortedContains(exclude, row) { continue }
                r += 1
            }
        }
        return r
    }
}

/// Dot product in Double (each product of two floats is exact), NaN mapped to -inf.
@inline(__always) func exactDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Double {
    var s = 0.0
    for k in 0 ..< d { s += Double(a[k]) * Double(b[k]) }
    return s.isNaN ? -.infinity : s
}
