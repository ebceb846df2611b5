// ScoreTermRows: one batch's additive score terms, filled per query and added to each GEMM block of scores.

/// An additive score term (`Evaluator.ranks`, `TopK.search`): adds user `u`'s term for every item row to the row
/// it is given.
public typealias ScoreTerm = @Sendable (_ user: Int, _ into: UnsafeMutablePointer<Float>) -> Void

/// The terms of a batch of queries, [rows, items] floats (no storage without a term): each row is filled once per
/// batch, then added to every block of that batch's GEMM scores.
struct ScoreTermRows {
    let term: ScoreTerm?
    let items: Int
    private let base: UnsafeMutablePointer<Float>

    init(_ term: ScoreTerm?, rows: Int, items: Int) {
        self.term = term; self.items = items
        base = .allocate(capacity: term == nil ? 0 : rows * items)
    }

    func deallocate() { base.deallocate() }

    /// Row `i`, or nil without a term.
    func row(_ i: Int) -> UnsafeMutablePointer<Float>? { term == nil ? nil : base + i * items }

    /// Row `i` set to query `q`'s term (zeroed first, then `term(q, row)`); nil without a term.
    @discardableResult func fill(_ i: Int, query q: Int) -> UnsafeMutablePointer<Float>? {
        guard let term, let r = row(i) else { return nil }
        r.update(repeating: 0, count: items)
        term(q, r)
        return r
    }

    /// Adds columns j0 ..< j0 + n of rows 0 ..< m to `scores` [m, n] (one GEMM block); nothing without a term.
    func add(to scores: UnsafeMutablePointer<Float>, rows m: Int, from j0: Int, count n: Int) {
        guard term != nil else { return }
        for i in 0 ..< m {
            let s = scores + i * n, t = base + i * items + j0
            for j in 0 ..< n { s[j] += t[j] }
        }
    }
}
