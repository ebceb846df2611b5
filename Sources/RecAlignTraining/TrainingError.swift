// TrainingError: why a training run stopped or refused to start.
import Foundation

/// Errors of a training run.
public enum TrainingError: Error, CustomStringConvertible {
    case invalid(String)
    case nonFinite(step: Int, what: String, lastGood: String?)
    case file(String, String)

    public var description: String {
        switch self {
        case let .invalid(s): return s
        case let .nonFinite(step, what, lastGood):
            return "training stopped at step \(step): the \(what) is not finite (NaN or infinite); try a lower learning rate. "
                + (lastGood.map { "The last good checkpoint is kept in \($0)." } ?? "No checkpoint had been written yet.")
        case let .file(path, reason): return "\(path): \(reason)"
        }
    }
}
