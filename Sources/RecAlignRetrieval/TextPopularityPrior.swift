// TextPopularityPrior: item popularity predicted from item text, so that a cold item (no interactions) gets a prior too.
import Foundation
import RecAlignData
import RecAlignTensor

/// A log-linear popularity model over item embeddings: log p(i) = w·x_i + const, a softmax over the known
/// items fitted to their train interaction counts c_i (N = Σ c_i, i over the known items, λ > 0):
///
///     L(w)   = −(1/N) Σ_i c_i log softmax(Xw)_i + λ‖w‖²
///     ∇L     = Xᵀ(p − c/N) + 2λw                        p = softmax(Xw)
///     ∇²L    = Xᵀ(diag p − p pᵀ)X + 2λI                 (positive definite: Newton steps, backtracking)
///
/// Any item, cold ones included, then has the prior w·x from its text alone.
///
/// Why it belongs beside a contrastive tower: MNRL's in-batch negatives are the batch's targets, drawn in
/// proportion to popularity, so a tower trained with them learns scale·cos(u, i) ≈ log p(i | u) − log p(i) + const
/// (the sampled-softmax bias; the "logQ correction" of Yi et al., RecSys 2019). Adding w·x_i / scale to the cosine
/// puts log p(i) back; for a cold item the text's prediction stands in for the count it does not have.
public struct TextPopularityPrior: Sendable {
    public let dim: Int
    /// The fitted w, `dim`.
    public let weights: [Double]
    /// The λ it was fitted with.
    public let l2: Double
    /// Each λ tried by `select` with its held-out log-likelihood per interaction (empty after a plain `fit`).
    public var selection: [(l2: Double, heldOut: Double)] = []

    /// Fits w on the rows `known` of `items` (row-major, `dim` columns) with counts `counts[row]`.
    public static func fit(items: [Float], dim: Int, counts: [Double], known: [Int], l2: Double) throws -> TextPopularityPrior {
        let data = try Design(items: items, dim: dim, counts: counts, known: known)
        guard l2 > 0, l2.isFinite else { throw RetrievalError.invalid(field: "l2", reason: "must be > 0, got \(l2)") }
        let w = data.newton(rows: Array(0..<data.rows), l2: l2, start: [Double](repeating: 0, count: dim))
        return TextPopularityPrior(dim: dim, weights: w, l2: l2)
    }

    /// Chooses λ from `grid` by `folds`-fold cross-validation over the known items — each fold's items are
    /// held out as if cold, and scored by their interactions' log-probability under the softmax over all known
    /// items — then fits on all of them with the best λ.
    public static func select(items: [Float], dim: Int, counts: [Double], known: [Int],
                              grid: [Double] = [1e-2, 1e-3, 3e-4, 1e-4, 3e-5], folds: Int = 5,
                              seed: UInt64 = 42) throws -> TextPopularityPrior {
        let data = try Design(items: items, dim: dim, counts: counts, known: known)
        guard !grid.isEmpty, grid.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw RetrievalError.invalid(field: "grid", reason: "needs at least one λ, all > 0")
        }
        guard folds >= 2, folds <= data.rows else {
            throw RetrievalError.invalid(field: "folds", reason: "must be in 2...\(data.rows), got \(folds)")
        }
        // Folds: the known rows' positions in a Fisher-Yates shuffle driven by SplitMix64 (the cold-item draw's
        // rule, PROTOCOL section 3), position k in fold k mod folds — reproducible in any language.
        var rng = SplitMix64(seed: seed)
        let order = rng.partialShuffle(n: data.rows, m: data.rows)
        let lambdas = grid.sorted(by: >)               // largest first: each fit starts from the last one's w
        var heldOut = [Double](repeating: 0, count: lambdas.count)
        for f in 0..<folds {
            let out = Set(stride(from: f, to: data.rows, by: folds).map { order[$0] })
            let fitRows = (0..<data.rows).filter { !out.contains($0) }
            var w = [Double](repeating: 0, count: dim)
            for (k, l2) in lambdas.enumerated() {
                w = data.newton(rows: fitRows, l2: l2, start: w)
                let logp = data.logSoftmax(data.logits(w))
                for r in out { heldOut[k] += data.counts[r] * logp[r] }
            }
        }
        let total = data.counts.reduce(0, +)
        let scores = zip(lambdas, heldOut).map { (l2: $0, heldOut: $1 / total) }
        let best = scores.max { $0.heldOut < $1.heldOut }!
        var prior = TextPopularityPrior(dim: dim, weights: data.newton(rows: Array(0..<data.rows), l2: best.l2,
                                                                      start: [Double](repeating: 0, count: dim)),
                                        l2: best.l2)
        prior.selection = scores
        return prior
    }

    /// The prior w·x of every row of `items` (`dim` columns).
    public func values(items: [Float]) throws -> [Float] {
        let n = try Check.rows(items.count, dim: dim, field: "items")
        return (0..<n).map { r in
            var s = 0.0
            for c in 0..<dim { s += Double(items[r * dim + c]) * weights[c] }
            return Float(s)
        }
    }

    /// Towers whose dot product is `u·v + weight · prior(v)`: each user row gains a last column `weight`, each
    /// item row the column `prior(v)` (so any inner-product index, Faiss's too, ranks with the prior).
    public func augment(users: [Float], items: [Float], weight: Double) throws -> (users: [Float], items: [Float], dim: Int) {
        let nu = try Check.rows(users.count, dim: dim, field: "users")
        let p = try values(items: items)
        func widen(_ m: [Float], _ rows: Int, _ last: (Int) -> Float) -> [Float] {
            var out = [Float](); out.reserveCapacity(rows * (dim + 1))
            for r in 0..<rows { out += m[(r * dim)..<((r + 1) * dim)]; out.append(last(r)) }
            return out
        }
        return (widen(users, nu, { _ in Float(weight) }), widen(items, p.count, { p[$0] }), dim + 1)
    }
}

/// The known items' embeddings in Double with their counts, and the objective's pieces.
private struct Design {
    let rows: Int, dim: Int
    let x: [Double]           // rows x dim
    let counts: [Double]

    init(items: [Float], dim: Int, counts all: [Double], known: [Int]) throws {
        let n = try Check.rows(items.count, dim: dim, field: "items")
        guard all.count == n else {
            throw RetrievalError.shape(field: "counts", reason: "one count per item row: \(all.count) for \(n) rows")
        }
        guard known.count >= 2, Set(known).count == known.count, known.allSatisfy({ $0 >= 0 && $0 < n }) else {
            throw RetrievalError.invalid(field: "known", reason: "needs >= 2 distinct rows in 0..<\(n)")
        }
        guard known.allSatisfy({ all[$0] >= 0 && all[$0].isFinite }), known.contains(where: { all[$0] > 0 }) else {
            throw RetrievalError.invalid(field: "counts", reason: "must be finite, >= 0, and not all 0 on the known rows")
        }
        var x = [Double](repeating: 0, count: known.count * dim)
        for (k, r) in known.enumerated() { for c in 0..<dim { x[k * dim + c] = Double(items[r * dim + c]) } }
        guard x.allSatisfy({ $0.isFinite }) else { throw RetrievalError.invalid(field: "items", reason: "contains NaN or infinity") }
        rows = known.count; self.dim = dim; self.x = x; counts = known.map { all[$0] }
    }

    /// z = Xw over all rows.
    func logits(_ w: [Double]) -> [Double] {
        var z = [Double](repeating: 0, count: rows)
        BLAS.gemv(transA: false, m: rows, n: dim, a: x, lda: dim, x: w, beta: 0, y: &z)
        return z
    }

    func logSoftmax(_ z: [Double]) -> [Double] {
        let m = z.max() ?? 0
        let lse = m + log(z.reduce(0) { $0 + exp($1 - m) })
        return z.map { $0 - lse }
    }

    /// L(w) over the rows `xs` holds ([S, dim], counts `c`, total `n`), with their log-probabilities
    /// log softmax(X_S w) (the softmax over those rows only).
    func objective(_ w: [Double], xs: [Double], c: [Double], n: Double, l2: Double) -> (loss: Double, logp: [Double]) {
        var z = [Double](repeating: 0, count: c.count)
        BLAS.gemv(transA: false, m: c.count, n: dim, a: xs, lda: dim, x: w, beta: 0, y: &z)
        let logp = logSoftmax(z)
        var l = 0.0
        for k in 0..<c.count { l -= c[k] * logp[k] }
        return (l / n + l2 * w.reduce(0) { $0 + $1 * $1 }, logp)
    }

    /// Minimises L over the rows `sub` by Newton steps with Armijo backtracking, from `start`. Each step
    /// reuses the log-probabilities of the accepted point (one X_S w per line-search trial, none besides).
    func newton(rows sub: [Int], l2: Double, start: [Double]) -> [Double] {
        var w = start
        let c = sub.map { counts[$0] }, n = c.reduce(0, +)
        var xs = [Double](repeating: 0, count: sub.count * dim)
        for (k, r) in sub.enumerated() { for j in 0..<dim { xs[k * dim + j] = x[r * dim + j] } }
        var current = objective(w, xs: xs, c: c, n: n, l2: l2)
        for _ in 0..<100 {
            let p = current.logp.map(exp)
            // g = Xᵀ(p − c/N) + 2λw
            let resid = (0..<sub.count).map { p[$0] - c[$0] / n }
            var g = w.map { 2 * l2 * $0 }
            BLAS.gemv(transA: true, m: sub.count, n: dim, a: xs, lda: dim, x: resid, beta: 1, y: &g)
            if g.reduce(0, { max($0, abs($1)) }) < 1e-10 { break }
            // H = (√p X)ᵀ(√p X) − (Xᵀp)(Xᵀp)ᵀ + 2λI   (upper triangle)
            var sx = xs
            for k in 0..<sub.count { let s = p[k].squareRoot(); for j in 0..<dim { sx[k * dim + j] *= s } }
            var h = [Double](repeating: 0, count: dim * dim)
            BLAS.syrkUpper(n: dim, k: sub.count, alpha: 1, a: sx, lda: dim, beta: 0, c: &h, ldc: dim)
            var xp = [Double](repeating: 0, count: dim)
            BLAS.gemv(transA: true, m: sub.count, n: dim, a: xs, lda: dim, x: p, beta: 0, y: &xp)
            BLAS.syrUpper(n: dim, alpha: -1, x: xp, a: &h, lda: dim)
            for j in 0..<dim { h[j * dim + j] += 2 * l2 }
            var step = g
            guard BLAS.solvePositiveDefinite(n: dim, rhs: 1, a: &h, lda: dim, b: &step, ldb: 1) == 0 else { break }
            let slope = zip(g, step).reduce(0) { $0 + $1.0 * $1.1 }
            var t = 1.0, next = w, trial = current
            while t > 1e-10 {
                next = zip(w, step).map { $0 - t * $1 }
                trial = objective(next, xs: xs, c: c, n: n, l2: l2)
                if trial.loss <= current.loss - 1e-4 * t * slope { break }
                t /= 2
            }
            if !(trial.loss < current.loss) { break }
            let gain = current.loss - trial.loss
            w = next; current = trial
            if gain < 1e-15 { break }
        }
        return w
    }
}

/// What a prior needs from a split and setting: every item's train count in that setting and the rows it may
/// learn from (warm: all items; cold: the warm ones, since cold items have no training signal).
///
/// `recent` k > 0 counts only each user's last k train interactions. Why: the held-out items are each user's
/// latest, so the popularity that predicts them is that of late interactions (what users move on to), not that
/// of the whole log.
public struct PriorTarget: Sendable {
    public var counts: [Double]
    public var known: [Int]
    /// β: the prior's weight against the cosine (1 / MNRL scale by default).
    public var weight: Double
    /// Train interactions counted per user, newest first (0: all).
    public var recent: Int

    /// 1 / 20: MNRL's default scale turns its logits back into cosine units.
    public static let defaultWeight = 1.0 / 20

    public init(split: Split, setting: EvalSetting, weight: Double = PriorTarget.defaultWeight, recent: Int = 0) {
        precondition(recent >= 0, "recent \(recent) < 0")
        var c = [Double](repeating: 0, count: split.itemCount)
        let train = split.trainSequences(setting)
        for u in 0..<(train.offsets.count - 1) {
            let lo = train.offsets[u], hi = train.offsets[u + 1]
            for i in train.items[(recent > 0 ? max(lo, hi - recent) : lo)..<hi] { c[Int(i)] += 1 }
        }
        self.recent = recent
        counts = c
        known = (0..<split.itemCount).filter { setting == .warm || !split.cold.isCold[$0] }
        self.weight = weight
    }

    /// A prior fitted (λ by cross-validation) on the item vectors `items` of this split and setting.
    public func fit(items: [Float], dim: Int) throws -> TextPopularityPrior {
        try TextPopularityPrior.select(items: items, dim: dim, counts: counts, known: known)
    }

    /// Fits a prior on `items` and returns the augmented towers.
    public func apply(users: [Float], items: [Float], dim: Int) throws -> (users: [Float], items: [Float], dim: Int, prior: TextPopularityPrior) {
        let prior = try fit(items: items, dim: dim)
        let a = try prior.augment(users: users, items: items, weight: weight)
        return (a.users, a.items, a.dim, prior)
    }
}
