// EvaluationView: what a user tower may read at validation / test (history) and what ranking excludes.
import Foundation

/// Validation or test.
public enum EvalStage: String, Sendable, CaseIterable { case valid, test }
/// Warm (all items seen in training) or cold (cold items removed from every training signal).
public enum EvalSetting: String, Sendable, CaseIterable { case warm, cold }

extension Split {
    /// The train sequences of a setting: `train` (warm) or `cold/train` (cold). Training pairs use these.
    public func trainSequences(_ setting: EvalSetting) -> InteractionSequences {
        setting == .warm ? train : cold.train
    }

    /// Evaluated user rows: warm = all users; cold = users whose held-out item of that stage is cold.
    public func evaluatedUsers(_ stage: EvalStage, _ setting: EvalSetting) -> [Int32] {
        switch setting {
        case .warm: return (0..<userCount).map { Int32($0) }
        case .cold: return stage == .valid ? cold.validUsers : cold.testUsers
        }
    }

    /// The held-out target of user row `u`.
    public func target(user u: Int, stage: EvalStage) -> HeldOut { stage == .valid ? valid[u] : test[u] }

    /// Visible history, oldest first (PROTOCOL sections 2-3). Warm: validation = train items;
    /// test = train items + the validation item. Cold: validation = cold/train items;
    /// test = cold/train items + the validation item only if it is warm.
    public func history(user u: Int, stage: EvalStage, setting: EvalSetting) -> [Int32] {
        var h = Array(trainSequences(setting).items(ofUser: u))
        if stage == .test {
            let v = valid[u].itemRow
            if setting == .warm || !cold.isCold[Int(v)] { h.append(v) }
        }
        return h
    }

    /// Item rows excluded from ranking (PROTOCOL section 4), sorted, same in both settings: the user's
    /// full original train items, plus the validation item at test. The target is never excluded.
    public func exclusions(user u: Int, stage: EvalStage) -> [Int32] {
        var s = Set(train.items(ofUser: u))
        if stage == .test { s.insert(valid[u].itemRow) }
        s.remove(target(user: u, stage: stage).itemRow)
        return s.sorted()
    }

    /// `exclusions(user:stage:)` as a set of Int rows (the form `RankMetrics.rank` takes).
    public func exclusionSet(user u: Int, stage: EvalStage) -> Set<Int> {
        Set(exclusions(user: u, stage: stage).map(Int.init))
    }
}
