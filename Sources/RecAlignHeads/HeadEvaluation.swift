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
        ranks(itemVectors: itemVectors, userVectors: userVectors, dim: dim, users: users, split: split, stage: stage,
              transitions: nil, histories: [], weights: [0])[0]
    }

    /// Ranks under `users · itemsᵀ + w · term(u)` for every `w` of `weights` (one list each), from one product per
    /// block of users: the term is the `transitions` of each user's history (one per user; nil: no term).
    public static func ranks(itemVectors: [Float], userVectors: [Float], dim: Int, users: [Int32], split: Split,
                             stage: EvalStage, transitions: TransitionPrior?, histories: [[Int32]], weights: [Float]) -> [[Int]] {
        let n = itemVectors.count / dim
        precondition(transitions == nil || (transitions!.itemCount == n && histories.count == users.count),
                     "HeadEvaluation.ranks: the term's shape")
        let items = Tensor(itemVectors, shape: [n, dim])
        var out = [[Int]](repeating: [], count: weights.count)
        for w in out.indices { out[w].reserveCapacity(users.count) }
        var term = [Float](repeating: 0, count: n), fused = [Float](repeating: 0, count: n)
        Autograd.noGrad {
            for start in stride(from: 0, to: users.count, by: 256) {
                let end = min(users.count, start + 256)
                let block = Tensor(Array(userVectors[(start * dim)..<(end * dim)]), shape: [end - start, dim])
                let scores = matmul(block, items, transB: true)
                for (k, u) in users[start..<end].enumerated() {
                    let base = scores.data + k * n
                    let target = Int(split.target(user: Int(u), stage: stage).itemRow)
                    let excluded = split.exclusionSet(user: Int(u), stage: stage)
                    if let t = transitions {
                        term.withUnsafeMutableBufferPointer { p in
                            p.update(repeating: 0)
                            t.addTerm(histories[start + k], weight: 1, to: p.baseAddress!)
                        }
                    }
                    for (wi, w) in weights.enumerated() {
                        if w == 0 || transitions == nil {
                            out[wi].append(RankMetrics.rank(scores: UnsafeBufferPointer(start: base, count: n), target: target,
                                                            excluded: excluded))
                            continue
                        }
                        fused.withUnsafeMutableBufferPointer { f in
                            for i in 0..<n { f[i] = base[i] + w * term[i] }
                            out[wi].append(RankMetrics.rank(scores: UnsafeBufferPointer(f), target: target, excluded: excluded))
                        }
                    }
                }
            }
        }
        return out
    }

    /// Metrics of `head` on a split's stage and setting, from frozen item embeddings [n, C], with its transition term.
    public static func evaluate(_ head: RecHead, itemEmbeddings: [Float], split: Split, stage: EvalStage,
                                setting: EvalSetting) throws -> MetricSummary {
        try evaluate(head, itemEmbeddings: itemEmbeddings, split: split, stage: stage, setting: setting,
                     transitionWeights: [head.config.transitionWeight])[0]
    }

    /// Metrics of `head` with its transition term at each weight of `transitionWeights` (0: the tower alone), from
    /// one pass over the users. Catalogs above `TransitionPrior.maxItems` are refused for a weight above 0.
    public static func evaluate(_ head: RecHead, itemEmbeddings: [Float], split: Split, stage: EvalStage, setting: EvalSetting,
                                transitionWeights weights: [Float]) throws -> [MetricSummary] {
        let users = split.evaluatedUsers(stage, setting)
        let histories = users.map { split.history(user: Int($0), stage: stage, setting: setting) }
        let v = try head.vectors(itemEmbeddings: itemEmbeddings, itemCount: split.itemCount, histories: histories)
        let t = weights.contains { $0 > 0 }
            ? try head.transitionTable(train: split.trainSequences(setting), itemCount: split.itemCount)
            : nil
        return ranks(itemVectors: v.items, userVectors: v.users, dim: v.dim, users: users, split: split, stage: stage,
                     transitions: t, histories: histories, weights: weights).map { MetricSummary(ranks: $0) }
    }

    /// Sets the head's transition weight to the one of `grid` whose fused scores rank the validation targets best
    /// (Recall@10, then NDCG@10; ties to the smaller weight) and returns each weight's validation metrics.
    /// Catalogs above `TransitionPrior.maxItems` keep the head without the term.
    @discardableResult
    public static func chooseTransitionWeight(_ head: RecHead, itemEmbeddings: [Float], split: Split, setting: EvalSetting,
                                              grid: [Float] = TransitionPrior.weightGrid) throws -> [(weight: Float, valid: MetricSummary)] {
        head.config.transitionWeight = 0
        guard split.itemCount <= TransitionPrior.maxItems, !grid.isEmpty else { return [] }
        let valid = try evaluate(head, itemEmbeddings: itemEmbeddings, split: split, stage: .valid, setting: setting,
                                 transitionWeights: grid)
        let results = zip(grid, valid).map { (weight: $0, valid: $1) }
        var best = results[0]
        for r in results.dropFirst() where r.valid.isBetter(than: best.valid) { best = r }
        head.config.transitionWeight = best.weight
        return results
    }
}
