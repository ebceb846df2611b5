// TrainingLoop: the bookkeeping every trainer shares (rate schedule, update with its non-finite guard and
// gradient clipping, best-so-far selection, early stopping); the trainers' callbacks do the work.
import Foundation
import RecAlignTensor

/// The core of a training loop, shared by the encoder trainer and the head trainer. Pure bookkeeping: the
/// caller's closures compute the loss (`step`), and save the weights when a validation is the best so far
/// (`validated`); the loop decides the learning rate of each step, refuses a non-finite loss, keeps the best
/// metric and the step it was reached at, and says when early stopping triggers.
///
/// Selection: a validation is the new best when `isBetter(metric, best)` (so the first one always is, and a
/// tie keeps the earlier one); every other validation counts as bad, and the run should stop once
/// `patience` (> 0) bad validations come in a row.
public struct TrainingLoop<Metric> {
    /// The rate of every step (warm-up then linear decay).
    public let schedule: LinearWarmupSchedule
    /// Stop after this many validations in a row without a better metric (0: never).
    public let patience: Int
    /// True when the first metric beats the second (nil: no validation yet).
    public let isBetter: (Metric, Metric?) -> Bool
    /// The best validation so far, the step it was reached at (-1: none) and the bad validations since.
    public var best: Metric?
    public var bestStep: Int
    public var badValidations: Int

    /// A loop with no validation yet, or, on resume, the saved `best`, `bestStep` and `badValidations`.
    public init(schedule: LinearWarmupSchedule, patience: Int, isBetter: @escaping (Metric, Metric?) -> Bool,
                best: Metric? = nil, bestStep: Int = -1, badValidations: Int = 0) {
        self.schedule = schedule; self.patience = patience; self.isBetter = isBetter
        self.best = best; self.bestStep = bestStep; self.badValidations = badValidations
    }

    /// Runs the 0-based optimizer step `index`: sets `optimizer.lr` to the schedule's rate, then `body(lr)`
    /// does the step (forward, backward, update) and returns its loss.
    public func step(_ index: Int, optimizer: Optimizer, _ body: (_ lr: Float) throws -> Float) rethrows -> Float {
        let lr = schedule.lr(at: index)
        optimizer.lr = lr
        return try body(lr)
    }

    /// The update of one step from a recorded scalar loss: when the loss is NaN or infinite the tape is
    /// cleared, no gradient is written and the error `nonFinite(value)` returns is thrown; otherwise backward,
    /// the global gradient norm of `parameters` clipped to `maxGradNorm`, `optimizer.step()` and zeroed
    /// gradients. Returns the loss value (before the update).
    ///
    /// Data-parallel (`allReduce`, under MPI): `loss` is the mean over this rank's share of the batch (nil: an
    /// empty share) and `share` its fraction of the batch's rows, so the ranks' scaled losses add up to the
    /// batch's mean loss; that sum is what is checked and returned, and the gradients are summed over the
    /// ranks before clipping, so every rank clips the same global norm and takes the same step.
    public func update(_ loss: Tensor?, share: Float = 1, parameters: [Tensor], optimizer: Optimizer, maxGradNorm: Float,
                       allReduce: GradientAllReduce? = nil, nonFinite: (Float) -> Error) throws -> Float {
        let local = loss.map { $0.data[0] * share } ?? 0
        let value = allReduce?.sum(local) ?? local
        guard value.isFinite else {
            Autograd.clearTape()
            throw nonFinite(value)
        }
        if let loss { Autograd.backward(loss, seed: share) }
        allReduce?.reduce(parameters)
        clipGradNorm(parameters, maxNorm: maxGradNorm)
        optimizer.step()
        optimizer.zeroGrad()
        return value
    }

    /// Records the validation `metric` measured at `step`. A new best is kept (with its step, the bad count
    /// reset) and `saveBest` runs (the checkpoint); otherwise one more bad validation.
    /// Returns whether it was the new best, and whether early stopping now triggers.
    @discardableResult
    public mutating func validated(_ metric: Metric, at step: Int,
                                   saveBest: () throws -> Void) rethrows -> (isBest: Bool, stop: Bool) {
        let isBest = isBetter(metric, best)
        if isBest {
            best = metric; bestStep = step; badValidations = 0
            try saveBest()
        } else {
            badValidations += 1
        }
        return (isBest, shouldStop)
    }

    /// True once `patience` (> 0) validations in a row were not better than the best.
    public var shouldStop: Bool { patience > 0 && badValidations >= patience }
}
