// RatingBaselines: global mean, user mean and biased MF (chosen on validation) for the rating-prediction task.
import Foundation
import RecAlignData
import RecAlignMetrics

/// The two mean baselines. Global mean: the train mean μ for everyone. User mean: the mean of the user's
/// ratings visible at the stage (train; at test also the validation rating), μ for a user with none.
public enum MeanRatings {
    /// μ over all train ratings.
    public static func global(_ ratings: RatingSplit) -> Float {
        Float(ratings.train.reduce(0.0) { $0 + Double($1) } / Double(max(ratings.train.count, 1)))
    }

    /// User u's mean at `stage`, or `fallback` (the global mean) when the user has no visible rating.
    public static func user(_ ratings: RatingSplit, user u: Int, stage: EvalStage, fallback: Float) -> Float {
        let h = ratings.history(user: u, stage: stage)
        guard !h.isEmpty else { return fallback }
        return Float(h.reduce(0.0) { $0 + Double($1.rating) } / Double(h.count))
    }
}

/// One grid point's validation result.
public struct MFGridPoint: Codable, Equatable, Sendable {
    public var config: BiasedMFConfig
    public var validRMSE: Double
}

/// Held-out predictions of the baselines for every user at a stage, and how MF was chosen.
public struct RatingBaselinePredictions: Sendable {
    public var globalMean: [Float]
    public var userMean: [Float]
    public var mf: [Float]
    /// The MF setting chosen on validation RMSE (factors, λ, sweeps), and every grid point tried.
    public var chosen: MFGridPoint
    public var grid: [MFGridPoint]
}

/// Fits the baselines on train, chooses MF on validation, predicts the held-out ratings at a stage.
public enum RatingBaselines {
    /// The default grid: factors × λ, each fitted for up to `maxIterations` sweeps (every sweep count scored).
    public static let defaultFactors = [1, 2, 5, 10, 20]
    public static let defaultLambdas = [0.02, 0.05, 0.1, 0.2, 0.5]
    public static let defaultMaxIterations = 40

    /// Validation RMSE of every (factors, λ, sweeps) point; the best (ties: first in grid order) is refitted with
    /// its sweep count (same seed, so the same model) and predicts `stage`.
    public static func run(_ ratings: RatingSplit, itemCount: Int, stage: EvalStage = .test,
                           factors: [Int] = defaultFactors, lambdas: [Double] = defaultLambdas,
                           maxIterations: Int = defaultMaxIterations, seed: UInt64 = 42) throws -> RatingBaselinePredictions {
        guard !factors.isEmpty, !lambdas.isEmpty else { throw RetrievalError.invalid(field: "grid", reason: "empty") }
        var grid: [MFGridPoint] = []
        for k in factors {
            for l in lambdas {
                let config = BiasedMFConfig(factors: k, lambda: l, iterations: maxIterations, seed: seed)
                _ = try BiasedMF.fit(ratings, itemCount: itemCount, config: config) { sweep, model in
                    var c = config
                    c.iterations = sweep
                    let e = RatingErrors(predicted: model.predictHeldOut(ratings, stage: .valid), truth: ratings.valid)
                    grid.append(MFGridPoint(config: c, validRMSE: e.rmse))
                }
            }
        }
        var best = grid[0]
        for g in grid.dropFirst() where g.validRMSE < best.validRMSE { best = g }
        let mf = try BiasedMF.fit(ratings, itemCount: itemCount, config: best.config)
        let mu = MeanRatings.global(ratings)
        let users = 0..<ratings.userCount
        return RatingBaselinePredictions(
            globalMean: users.map { _ in mu },
            userMean: users.map { MeanRatings.user(ratings, user: $0, stage: stage, fallback: mu) },
            mf: mf.predictHeldOut(ratings, stage: stage), chosen: best, grid: grid)
    }
}
