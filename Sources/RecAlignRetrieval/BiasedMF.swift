// BiasedMF: biased matrix factorisation r̂ = μ + b_u + b_i + p_u·q_i fitted by alternating least squares.
import Foundation
import RecAlignData
import RecAlignTensor

/// Settings of one biased-MF fit.
public struct BiasedMFConfig: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Latent dimension k (0: biases only, r̂ = μ + b_u + b_i).
    public var factors: Int
    /// L2 weight per rating (ALS-WR, Zhou et al. 2008): a user's ridge term is λ·n_u, an item's λ·n_i, so a
    /// row with many ratings is not shrunk more in total than one with few.
    public var lambda: Double
    /// Full sweeps (all users, then all items).
    public var iterations: Int
    /// Seed of the item factors' N(0, initScale²) start.
    public var seed: UInt64
    public var initScale: Double

    public init(factors: Int = 10, lambda: Double = 0.1, iterations: Int = 10, seed: UInt64 = 42, initScale: Double = 0.1) {
        self.factors = factors; self.lambda = lambda; self.iterations = iterations; self.seed = seed; self.initScale = initScale
    }

    public var description: String { "k=\(factors), λ=\(lambda), \(iterations) iterations" }
}

/// A fitted biased MF model. Each ALS half-step is one small ridge solve per user (item factors fixed) or per
/// item (user factors fixed) over the augmented vector [bias, factors], with the augmented features [1, q_i]
/// (or [1, p_u]) and the target r − μ − (the other side's bias): Cholesky (`LAPACKE_dposv`) of
/// FᵀF + λ·n·I (`cblas_dsyrk`) against Fᵀy, F holding one augmented feature row per rating. Fitted on train
/// ratings only; a user is folded in from the history visible at a stage with the item side fixed (PROTOCOL
/// section 2, as ALS does for ranking).
public struct BiasedMF: Sendable {
    public let config: BiasedMFConfig
    /// Global train mean μ.
    public let mean: Double
    /// Per item row: b_i, and q_i (itemCount x k, row-major). Items without train ratings keep 0 and 0.
    public private(set) var itemBias: [Double]
    public private(set) var itemFactors: [Double]
    /// Per user row after the last sweep: b_u, and p_u (userCount x k).
    public private(set) var userBias: [Double]
    public private(set) var userFactors: [Double]
    /// Predictions are clipped to this range (the train ratings' scale).
    public let scale: ClosedRange<Float>

    var k: Int { config.factors }

    /// Fits on `ratings`' train part: μ, then `config.iterations` sweeps; `afterSweep(i, model)` (1-based i)
    /// lets a caller score validation after every sweep (model selection of the iteration count).
    public static func fit(_ ratings: RatingSplit, itemCount: Int, config: BiasedMFConfig,
                           afterSweep: ((Int, BiasedMF) -> Void)? = nil) throws -> BiasedMF {
        guard config.factors >= 0 else { throw RetrievalError.invalid(field: "factors", reason: "must be >= 0, got \(config.factors)") }
        guard config.lambda > 0, config.lambda.isFinite else {
            throw RetrievalError.invalid(field: "lambda", reason: "must be a positive number, got \(config.lambda)")
        }
        guard config.iterations >= 1 else { throw RetrievalError.invalid(field: "iterations", reason: "must be >= 1") }
        for (k, i) in ratings.trainItems.enumerated() where i < 0 || Int(i) >= itemCount {
            throw RetrievalError.invalid(field: "trainItems[\(k)]", reason: "row \(i) outside 0..<\(itemCount)")
        }
        guard !ratings.train.isEmpty else { throw RetrievalError.invalid(field: "ratings", reason: "no train ratings") }
        let mean = ratings.train.reduce(0.0) { $0 + Double($1) } / Double(ratings.train.count)
        var rng = SeededRNG(seed: config.seed)
        let k = config.factors
        let q = (0..<(itemCount * k)).map { _ in Double(rng.nextGaussian()) * config.initScale }
        var model = BiasedMF(config: config, mean: mean, itemBias: [Double](repeating: 0, count: itemCount), itemFactors: q,
                             userBias: [Double](repeating: 0, count: ratings.userCount),
                             userFactors: [Double](repeating: 0, count: ratings.userCount * k), scale: ratings.scale)
        // Items' ratings in CSR by item, for the item half-step.
        var itemOffsets = [Int](repeating: 0, count: itemCount + 1)
        for i in ratings.trainItems { itemOffsets[Int(i) + 1] += 1 }
        for i in 0..<itemCount { itemOffsets[i + 1] += itemOffsets[i] }
        var itemUsers = [Int32](repeating: 0, count: ratings.train.count)
        var itemRatings = [Float](repeating: 0, count: ratings.train.count)
        var fill = itemOffsets
        for u in 0..<ratings.userCount {
            for j in ratings.offsets[u]..<ratings.offsets[u + 1] {
                let i = Int(ratings.trainItems[j])
                itemUsers[fill[i]] = Int32(u); itemRatings[fill[i]] = ratings.train[j]; fill[i] += 1
            }
        }
        for sweep in 1...config.iterations {
            for u in 0..<ratings.userCount {
                let (b, p) = model.solve(rows: ratings.trainItems(ofUser: u).map(Int.init), ratings: Array(ratings.trainRatings(ofUser: u)),
                                         otherBias: model.itemBias, otherFactors: model.itemFactors)
                model.userBias[u] = b
                for d in 0..<k { model.userFactors[u * k + d] = p[d] }
            }
            for i in 0..<itemCount {
                let (b, p) = model.solve(rows: itemUsers[itemOffsets[i]..<itemOffsets[i + 1]].map(Int.init),
                                         ratings: Array(itemRatings[itemOffsets[i]..<itemOffsets[i + 1]]),
                                         otherBias: model.userBias, otherFactors: model.userFactors)
                model.itemBias[i] = b
                for d in 0..<k { model.itemFactors[i * k + d] = p[d] }
            }
            afterSweep?(sweep, model)
        }
        return model
    }

    /// One ridge solve: the [bias, factors] vector that best explains `ratings` of the `rows` of the other side,
    /// given that side's biases and factors. No ratings: zeros.
    func solve(rows: [Int], ratings: [Float], otherBias: [Double], otherFactors: [Double]) -> (Double, [Double]) {
        let n = k + 1
        guard !rows.isEmpty else { return (0, [Double](repeating: 0, count: k)) }
        // F: one row [1, factors of row j] per rating; y: the rating minus μ and row j's bias.
        var f = [Double](repeating: 1, count: rows.count * n)
        var y = [Double](repeating: 0, count: rows.count)
        for (m, (j, r)) in zip(rows, ratings).enumerated() {
            for d in 0..<k { f[m * n + d + 1] = otherFactors[j * k + d] }
            y[m] = Double(r) - mean - otherBias[j]
        }
        var a = [Double](repeating: 0, count: n * n)
        var rhs = [Double](repeating: 0, count: n)
        BLAS.syrkUpper(n: n, k: rows.count, alpha: 1, a: f, lda: n, beta: 0, c: &a, ldc: n)   // FᵀF
        BLAS.gemv(transA: true, m: rows.count, n: n, a: f, lda: n, x: y, beta: 0, y: &rhs)   // Fᵀy
        let reg = config.lambda * Double(rows.count)
        for d in 0..<n { a[d * n + d] += reg }
        // λ·n > 0 on the diagonal makes the matrix positive definite, so dposv succeeds.
        let info = BLAS.solvePositiveDefinite(n: n, rhs: 1, a: &a, lda: n, b: &rhs, ldb: 1)
        precondition(info == 0, "BiasedMF: ridge system not positive definite (LAPACK info \(info))")
        return (rhs[0], Array(rhs[1...]))
    }

    /// The user's [b_u, p_u] re-solved from a rated history with the items fixed (fold-in).
    public func foldIn(history: [(item: Int32, rating: Float)]) -> (bias: Double, factors: [Double]) {
        solve(rows: history.map { Int($0.item) }, ratings: history.map(\.rating), otherBias: itemBias, otherFactors: itemFactors)
    }

    /// μ + b_u + b_i + p_u·q_i for a folded-in user, clipped to `scale`.
    public func predict(user: (bias: Double, factors: [Double]), item: Int) -> Float {
        var s = mean + user.bias + itemBias[item]
        for d in 0..<k { s += user.factors[d] * itemFactors[item * k + d] }
        return min(max(Float(s), scale.lowerBound), scale.upperBound)
    }

    /// The prediction for user row u (its factors after the last sweep) and item row i, clipped.
    public func predict(userRow u: Int, item i: Int) -> Float {
        predict(user: (userBias[u], Array(userFactors[(u * k)..<((u + 1) * k)])), item: i)
    }

    /// Each user's held-out rating at `stage`, predicted after folding the user in from that stage's history.
    public func predictHeldOut(_ ratings: RatingSplit, stage: EvalStage) -> [Float] {
        (0..<ratings.userCount).map { u in
            predict(user: foldIn(history: ratings.history(user: u, stage: stage)), item: Int(ratings.target(user: u, stage: stage).item))
        }
    }
}
