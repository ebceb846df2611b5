// HeadEvaluation: protocol ranks (PROTOCOL section 4) of every evaluated user against all items for a head.
import Foundation
import RecAlignNN
import RecAlignData
import RecAlignTensor
import RecAlignMetrics

/// Ranks the held-out targets of a split's evaluated users by dot products of user and item vectors.
public enum HeadEvaluation {
    /// 1-based target ranks of `users` given unit vectors (row-major: items [n, d], users [U, d]).
    /// Scores = users · itemsᵀ in blocks of 256 users; exclusions and ties follow the protocol.
    public static func ranks(itemVectors: [Float], userVectors: [Float], dim: Int, users: [Int32],
                             split: Split, stage: EvalStage) -> [Int] {
        let n = itemVectors.count / dim
        let items = Tensor(itemVectors, shape: [n, dim])
        var out: [Int] = []
        out.reserveCapacity(users.count)
        Autograd.noGrad {
            for start in stride(from: 0, to: users.count, by: 256) {
                let end = min(users.count, start + 256)
                let block = Tensor(Array(userVectors[(start * dim)..<(end * dim)]), shape: [end - start, dim])
                let scores = matmul(block, items, transB: true)
                for (k, u) in users[start..<end].enumerated() {
                    let row = UnsafeBufferPointer(start: scores.data + k * n, count: n)
                    let target = Int(split.target(user: Int(u), stage: stage).itemRow)
                    out.append(RankMetrics.rank(scores: row, target: target, excluded: split.exclusionSet(user: Int(u), stage: stage)))
                }
            }
        }
        return out
    }

    /// Metrics of `head` on a split's stage and setting, from frozen item embeddings [n, C].
    public static func evaluate(_ head: RecHead, itemEmbeddings: [Float], split: Split, stage: EvalStage,
                                setting: EvalSetting) throws -> MetricSummary {
        let users = split.evaluatedUsers(stage, setting)
        let histories = users.map { split.history(user: Int($0), stage: stage, setting: setting) }
        let v = try head.scoringVectors(itemEmbeddings: itemEmbeddings, itemCount: split.itemCount, histories: histories,
                                        train: split.trainSequences(setting))
        return MetricSummary(ranks: ranks(itemVectors: v.items, userVectors: v.users, dim: v.dim, users: users,
                                          split: split, stage: stage))
    }

    /// Sets the head's transition weight to the one of `grid` whose fused scores rank the validation targets best
    /// (Recall@10, then NDCG@10; ties to the smaller weight) and returns each weight's validation metrics.
    /// Catalogs above `TransitionPrior.maxItems` keep the head without the term.
    @discardableResult
    public static func chooseTransitionWeight(_ head: RecHead, itemEmbeddings: [Float], split: Split, setting: EvalSetting,
                                              grid: [Float] = TransitionPrior.weightGrid) throws -> [(weight: Float, valid: MetricSummary)] {
        head.config.transitionWeight = 0
        guard split.itemCount <= TransitionPrior.maxItems, !grid.isEmpty else { return [] }
        let users = split.evaluatedUsers(.valid, setting)
        let histories = users.map { split.history(user: Int($0), stage: .valid, setting: setting) }
        let v = try head.vectors(itemEmbeddings: itemEmbeddings, itemCount: split.itemCount, histories: histories)
        let t = try TransitionPrior(sequences: split.trainSequences(setting), itemCount: split.itemCount,
                                    lastItems: head.config.transitionItems, decay: head.config.transitionDecay)
        var results: [(weight: Float, valid: MetricSummary)] = []
        for w in grid {
            let a = t.augment(users: v.users, items: v.items, dim: v.dim, histories: histories, weight: w)
            results.append((w, MetricSummary(ranks: ranks(itemVectors: a.items, userVectors: a.users, dim: a.dim, users: users,
                                                          split: split, stage: .valid))))
        }
        var best = results[0]
        for r in results.dropFirst() where r.valid.isBetter(than: best.valid) { best = r }
        head.config.transitionWeight = best.weight
        return results
    }
}
