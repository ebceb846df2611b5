// RatingMetrics: RMSE and MAE of predicted ratings against the true ones (Liu et al.'s rating task).
import Foundation

/// Error of a set of rating predictions, accumulated in Double.
public struct RatingErrors: Codable, Equatable, Sendable {
    /// Predictions scored.
    public var count: Int
    /// sqrt(mean((predicted - true)^2)).
    public var rmse: Double
    /// mean(|predicted - true|).
    public var mae: Double

    public init(count: Int, rmse: Double, mae: Double) { self.count = count; self.rmse = rmse; self.mae = mae }

    /// RMSE and MAE over the pairs (`predicted[i]`, `truth[i]`); 0 / 0 / 0 for no pairs. The arrays must have
    /// the same length (a programming error otherwise).
    public init(predicted: [Float], truth: [Float]) {
        precondition(predicted.count == truth.count, "RatingErrors: \(predicted.count) predictions for \(truth.count) ratings")
        var se = 0.0, ae = 0.0
        for (p, t) in zip(predicted, truth) {
            let d = Double(p) - Double(t)
            se += d * d; ae += abs(d)
        }
        let n = Double(max(predicted.count, 1))
        self.init(count: predicted.count, rmse: (se / n).squareRoot(), mae: ae / n)
    }
}
