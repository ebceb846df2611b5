// TopK: exact top-k inner-product search by blocked GEMM and a running-threshold heap per query.
import Foundation
import RecAlignTensor

/// The k best items per query, row-major `queries x k`, each row sorted by score descending then item row
/// ascending (the protocol's tie rule). Where fewer than k items are available (small N, exclusions) the
/// tail of a row is padded with row `-1` and score `-inf`. NaN scores count as `-inf` and are reported so.
/// Candidates are found with float GEMM scores; the final k are re-scored and ordered in Double (rounded
/// to Float in `scores`), so items with identical vectors tie and go by row.
public struct TopKResult: Sendable, Equatable {
    public let queries: Int
    public let k: Int
    /// Item rows, `queries * k`, padded with -1.
    public var rows: [Int32]
    /// Scores matching `rows`, padded with -inf.
    public var scores: [Float]

    /// Number of real (non-padding) results of query `q`.
    public func count(query q: Int) -> Int {
        var n = 0
        while n < k && rows[q * k + n] >= 0 { n += 1 }
        return n
    }
    /// The real result rows of query `q`, best first.
    public func rows(query q: Int) -> ArraySlice<Int32> { rows[(q * k) ..< (q * k + count(query: q))] }
    /// The real result scores of query `q`, best first.
    public func scores(query q: Int) -> ArraySlice<Float> { scores[(q * k) ..< (q * k + count(query: q))] }
}

/// Exact maximum-inner-product search over a row-major item matrix.
public enum TopK {
    /// Top-k items of every query by dot product.
    ///
    /// - Parameters:
    ///   - queries: row-major `Q x dim`. `items`: row-major `N x dim`.
    ///   - k: results per query (k > available items pads, see `TopKResult`).
    ///   - exclude: nil, or one strictly ascending list of item rows per query that must not be returned.
    ///   - blockItems: items scored per GEMM call (memory: `queryBatch * blockItems` floats per worker).
    ///   - queryBatch: queries scored per GEMM call.
    ///   - threads: workers (default: the machine's cores, `Parallel.workers`); each takes item blocks from a
    ///     shared counter, scores them with a single-threaded GEMM into its own heaps, and the heaps are
    ///     merged per query. OpenBLAS is set to 1 thread during the call when > 1 (a process-wide setting,
    ///     restored on return).
    /// - Throws: `RetrievalError` on shapes that do not divide by `dim`, or a bad exclusion list.
    ///   - shardUsers: under MPI, search only this rank's share of the queries and all-gather the results
    ///     (`ShardedScoring`); false: every query here (the item-sharded search's per-rank part).
    ///   - term: nil, or an additive score term (as in `Evaluator.ranks`): query q's score of item i is
    ///     `q·i + out[i]` after `term(q, out)`. Each query batch holds its terms (queryBatch x N floats); the
    ///     final k are re-scored as the Double dot product plus the float term.
    public static func search(queries: [Float], items: [Float], dim: Int, k: Int, exclude: [[Int32]]? = nil,
                              blockItems: Int = 2048, queryBatch: Int = 256, threads: Int = Parallel.workers,
                              shardUsers: Bool = true, term: ScoreTerm? = nil) throws -> TopKResult {
        try queries.withUnsafeBufferPointer { q in
            try items.withUnsafeBufferPointer { it in
                shardUsers && k >= 0 && ShardedScoring.applies(queries.count, dim: dim, users: queries.count / max(1, dim), exclude: exclude)
                    ? try ShardedScoring.search(queries: q, items: it, dim: dim, k: k, exclude: exclude, blockItems: blockItems,
                                                queryBatch: queryBatch, threads: threads, term: term)
                    : try search(queries: q, items: it, dim: dim, k: k, exclude: exclude, blockItems: blockItems,
                                 queryBatch: queryBatch, threads: threads, term: term)
            }
        }
    }

    /// Pointer form of `search(queries:items:dim:k:exclude:blockItems:queryBatch:threads:shardUsers:term:)`.
    public static func search(queries: UnsafeBufferPointer<Float>, items: UnsafeBufferPointer<Float>, dim: Int,
                              k: Int, exclude: [[Int32]]? = nil, blockItems: Int = 2048, queryBatch: Int = 256,
                              threads: Int = Parallel.workers, term: ScoreTerm? = nil) throws -> TopKResult {
        let nq = try Check.rows(queries.count, dim: dim, field: "queries")
        let ni = try Check.rows(items.count, dim: dim, field: "items")
        guard k >= 0 else { throw RetrievalError.invalid(field: "k", reason: "must be >= 0, got \(k)") }
        try Check.positive(blockItems, queryBatch, field: "blockItems/queryBatch")
        let ex = try Check.sortedRows(exclude, rows: nq, items: ni)
        var result = TopKResult(queries: nq, k: k, rows: [Int32](repeating: -1, count: nq * k),
                                scores: [Float](repeating: -.infinity, count: nq * k))
        if nq == 0 || k == 0 || ni == 0 { return result }

        // Workers take item blocks from a shared counter (robust to a worker being descheduled on a busy
        // machine), each with its own heaps; blocks are small enough that there are >= 8 per worker.
        let work = Double(nq) * Double(ni) * Double(dim)
        let nw = max(1, min(threads, work < parallelMinWork ? 1 : threads, (ni + 15) / 16))
        let qb = min(queryBatch, nq)
        let nb = max(16, min(blockItems, ((ni + 8 * nw - 1) / (8 * nw) + 15) / 16 * 16))
        let nblocks = (ni + nb - 1) / nb
        var heaps = (0 ..< nw).map { _ in HeapSet(queries: qb, k: k) }
        let buffers = (0 ..< nw).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: qb * nb) }
        let terms = ScoreTermRows(term, rows: qb, items: ni)
        defer { buffers.forEach { $0.deallocate() }; heaps.forEach { $0.free() }; terms.deallocate() }
        let next = BlockCounter()

        BLASThreads.singleThreaded(if: nw) {
            var q0 = 0
            while q0 < nq {
                let m = min(qb, nq - q0)
                for qi in 0 ..< m { terms.fill(qi, query: q0 + qi) }
                next.reset()
                heaps.withUnsafeMutableBufferPointer { hs in
                    let hbase = hs.baseAddress!
                    let body: (Int) -> Void = { w in
                        let heap = hbase + w
                        heap.pointee.reset()
                        while true {
                            let b = next.take()
                            if b >= nblocks { break }
                            let j0 = b * nb, n = min(nb, ni - j0)
                            let buf = buffers[w]
                            BLAS.gemm(transA: false, transB: true, m: m, n: n, k: dim,
                                      a: queries.baseAddress! + q0 * dim, lda: dim,
                                      b: items.baseAddress! + j0 * dim, ldb: dim, beta: 0, c: buf, ldc: n)
                            terms.add(to: buf, rows: m, from: j0, count: n)
                            for qi in 0 ..< m {
                                heap.pointee.scan(query: qi, scores: buf + qi * n, count: n, firstRow: j0,
                                                  exclude: ex.list(q0 + qi))
                            }
                        }
                    }
                    if nw == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: nw, execute: body) }
                }
                // Merge the workers' heaps into sorted result rows.
                result.rows.withUnsafeMutableBufferPointer { rr in
                    result.scores.withUnsafeMutableBufferPointer { ss in
                        var cand: [(Float, Int32)] = []
                        var exact: [(Double, Int32)] = []
                        cand.reserveCapacity(nw * k)
                        for qi in 0 ..< m {
                            cand.removeAll(keepingCapacity: true)
                            for w in 0 ..< nw { heaps[w].collect(query: qi, into: &cand) }
                            // Re-score the survivors in Double so that identical item vectors tie exactly
                            // wherever their GEMM block was; then score desc, row asc.
                            let qp = queries.baseAddress! + (q0 + qi) * dim
                            let t = terms.row(qi)
                            exact = cand.map { c in
                                (exactDot(qp, items.baseAddress! + Int(c.1) * dim, dim) + (t.map { Double($0[Int(c.1)]) } ?? 0), c.1)
                            }
                            exact.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                            let base = (q0 + qi) * k
                            for (t, c) in exact.prefix(k).enumerated() { ss[base + t] = Float(c.0); rr[base + t] = c.1 }
                        }
                    }
                }
                q0 += m
            }
        }
        return result
    }
}

/// Below this many multiply-adds (queries x items x dim) a search or evaluation runs on one worker.
/// Internal so that tests can force the parallel paths on small inputs.
nonisolated(unsafe) var parallelMinWork: Double = 4e6

/// A shared next-block counter for the workers of one query batch.
final class BlockCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func reset() { lock.lock(); value = 0; lock.unlock() }
    func take() -> Int { lock.lock(); defer { value += 1; lock.unlock() }; return value }
}

/// Per-query sorted exclusion rows flattened to CSR (offsets + rows) so workers read them without ARC.
final class SortedRows: @unchecked Sendable {
    let offsets: UnsafeMutablePointer<Int>
    let rows: UnsafeMutablePointer<Int32>
    let count: Int

    init(_ lists: [[Int32]]) {
        count = lists.count
        offsets = .allocate(capacity: count + 1)
        let total = lists.reduce(0) { $0 + $1.count }
        rows = .allocate(capacity: max(total, 1))
        var o = 0
        for (u, l) in lists.enumerated() {
            offsets[u] = o
            for r in l { rows[o] = r; o += 1 }
        }
        offsets[count] = o
    }

    init(empty n: Int) {
        count = n
        offsets = .allocate(capacity: n + 1)
        offsets.initialize(repeating: 0, count: n + 1)
        rows = .allocate(capacity: 1)
    }

    deinit { offsets.deallocate(); rows.deallocate() }

    /// The sorted exclusion rows of query/user `u`.
    @inline(__always) func list(_ u: Int) -> UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: rows + offsets[u], count: offsets[u + 1] - offsets[u])
    }
}

/// Fixed-size min-heaps (worst result at the root) for a batch of queries, in flat buffers.
/// Worse = lower score, or equal score and higher row.
struct HeapSet {
    let k: Int
    let scores: UnsafeMutablePointer<Float>
    let rows: UnsafeMutablePointer<Int32>
    let counts: UnsafeMutablePointer<Int>
    let queries: Int

    init(queries: Int, k: Int) {
        self.k = k; self.queries = queries
        scores = .allocate(capacity: queries * k)
        rows = .allocate(capacity: queries * k)
        counts = .allocate(capacity: queries)
        counts.initialize(repeating: 0, count: queries)
    }

    // The buffers live for one `search` call; the owner frees them through `free()`.
    func free() { scores.deallocate(); rows.deallocate(); counts.deallocate() }

    func reset() { counts.update(repeating: 0, count: queries) }

    func collect(query q: Int, into out: inout [(Float, Int32)]) {
        for i in 0 ..< counts[q] { out.append((scores[q * k + i], rows[q * k + i])) }
    }

    @inline(__always) static func worse(_ s1: Float, _ r1: Int32, _ s2: Float, _ r2: Int32) -> Bool {
        s1 < s2 || (s1 == s2 && r1 > r2)
    }

    /// Offers `count` scores for consecutive rows from `firstRow` to query `q`.
    @inline(__always)
    func scan(query q: Int, scores s: UnsafePointer<Float>, count n: Int, firstRow: Int,
              exclude: UnsafeBufferPointer<Int32>) {
        let hs = scores + q * k, hr = rows + q * k
        var c = counts[q]
        var i = 0
        // Fill stage: take every non-excluded item until the heap holds k.
        while c < k && i < n {
            let row = Int32(firstRow + i)
            if exclude.isEmpty || !sortedContains(exclude, row) {
                let v = s[i].isNaN ? -Float.infinity : s[i]
                hs[c] = v; hr[c] = row
                HeapSet.siftUp(hs, hr, c)
                c += 1
            }
            i += 1
        }
        counts[q] = c
        if i >= n { return }
        // Threshold stage: a SIMD compare against the root's score skips almost every item; the few at or
        // above it are compared in full (blocks of one worker do not come in row order, so an equal score
        // with a lower row must still enter).
        var thr = hs[0], thrRow = hr[0]
        if thr == -.infinity {
            // Root is -inf: NaN (= -inf) items at lower rows can still enter, so compare cleaned scores.
            while i < n {
                let v = clean(s[i]), row = Int32(firstRow + i)
                if HeapSet.worse(thr, thrRow, v, row) && (exclude.isEmpty || !sortedContains(exclude, row)) {
                    hs[0] = v; hr[0] = row
                    HeapSet.siftDown(hs, hr, k)
                    thr = hs[0]; thrRow = hr[0]
                }
                i += 1
            }
            return
        }
        var tv = SIMD16<Float>(repeating: thr)
        let raw = UnsafeRawPointer(s)
        while i + 16 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            if any(v .>= tv) {
                for j in i ..< i + 16 where s[j] >= thr {
                    let row = Int32(firstRow + j)
                    if s[j] == thr && row > thrRow { continue }
                    if !exclude.isEmpty && sortedContains(exclude, row) { continue }
                    hs[0] = s[j]; hr[0] = row
                    HeapSet.siftDown(hs, hr, k)
                    thr = hs[0]; thrRow = hr[0]
                }
                tv = SIMD16<Float>(repeating: thr)
            }
            i += 16
        }
        while i < n {
            if s[i] >= thr {
                let row = Int32(firstRow + i)
                if !(s[i] == thr && row > thrRow) && (exclude.isEmpty || !sortedContains(exclude, row)) {
                    hs[0] = s[i]; hr[0] = row
                    HeapSet.siftDown(hs, hr, k)
                    thr = hs[0]; thrRow = hr[0]
                }
            }
            i += 1
        }
    }

    @inline(__always) static func siftUp(_ s: UnsafeMutablePointer<Float>, _ r: UnsafeMutablePointer<Int32>, _ at: Int) {
        var c = at
        while c > 0 {
            let p = (c - 1) >> 1
            if worse(s[c], r[c], s[p], r[p]) { s.swapAt(c, p); r.swapAt(c, p); c = p } else { break }
        }
    }

    @inline(__always) static func siftDown(_ s: UnsafeMutablePointer<Float>, _ r: UnsafeMutablePointer<Int32>, _ n: Int) {
        var p = 0
        while true {
            let l = 2 * p + 1
            if l >= n { break }
            var m = l
            if l + 1 < n && worse(s[l + 1], r[l + 1], s[l], r[l]) { m = l + 1 }
            if worse(s[m], r[m], s[p], r[p]) { s.swapAt(m, p); r.swapAt(m, p); p = m } else { break }
        }
    }
}

extension UnsafeMutablePointer {
    @inline(__always) fileprivate func swapAt(_ a: Int, _ b: Int) {
        let t = self[a]; self[a] = self[b]; self[b] = t
    }
}
