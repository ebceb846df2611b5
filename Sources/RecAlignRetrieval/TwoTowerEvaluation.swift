// TwoTowerEvaluation: text towers (items, users) from an encoder, scored under the protocol beside whitening and baselines.
import Foundation
import RecAlignData
import RecAlignModels
import RecAlignTensor
import RecAlignMetrics

/// User and item vectors of one evaluation (one stage and setting).
public struct TowerVectors: Sendable {
    public var users: [Float]
    public var items: [Float]
    public var dim: Int
}

/// Text towers over a `SentenceEncoder`: item tower = encoder(item text), user tower = encoder(user text)
/// with the protocol's truncation (drop the oldest items until the text fits `userMaxLength` tokens).
public final class TextTowers: @unchecked Sendable {
    public let encoder: SentenceEncoder
    public let corpus: PreparedCorpus
    public let userMaxLength: Int
    public let batchSize: Int
    public let builder: UserTextBuilder
    private var cachedItems: EmbeddingMatrix?

    public init(encoder: SentenceEncoder, corpus: PreparedCorpus, userMaxLength: Int = 128, batchSize: Int = 32) {
        self.encoder = encoder; self.corpus = corpus; self.userMaxLength = userMaxLength; self.batchSize = batchSize
        builder = UserTextBuilder(itemTexts: corpus.itemTexts, maxLength: userMaxLength,
                                  tokenCount: { encoder.tokenizer.countTokens($0) })
    }

    /// Item embeddings [items, dim] (encoded once).
    public func items(progress: ((Int, Int) -> Void)? = nil) -> EmbeddingMatrix {
        if let m = cachedItems { return m }
        // Under MPI the ranks encode their shares and every rank holds the whole matrix.
        let m = encoder.encodeSharded(corpus.itemTexts, batchSize: batchSize, result: .everyRank, progress: progress)
        cachedItems = m
        return m
    }

    /// User texts of `users` at a stage / setting (PROTOCOL section 5).
    public func userTexts(_ users: [Int32], _ stage: EvalStage, _ setting: EvalSetting) -> [String] {
        users.map { builder.text(split: corpus.split, user: Int($0), stage: stage, setting: setting).text }
    }

    /// User embeddings [users, dim] from their texts, encoded at `userMaxLength`.
    public func users(_ users: [Int32], _ stage: EvalStage, _ setting: EvalSetting,
                      progress: ((Int, Int) -> Void)? = nil) -> EmbeddingMatrix {
        encodeUserTexts(userTexts(users, stage, setting), progress: progress)
    }

    /// The user embedding of any history (item rows, oldest first), e.g. typed liked titles: [1, dim].
    public func user(history: [Int32]) -> EmbeddingMatrix { encodeUserTexts([builder.text(history).text]) }

    /// User texts encoded at `userMaxLength` (every rank holds the whole matrix under MPI).
    func encodeUserTexts(_ texts: [String], progress: ((Int, Int) -> Void)? = nil) -> EmbeddingMatrix {
        let saved = encoder.maxLength
        encoder.maxLength = userMaxLength
        defer { encoder.maxLength = saved }
        return encoder.encodeSharded(texts, batchSize: batchSize, result: .everyRank, progress: progress)
    }
}

/// What `TwoTowerEvaluation.run` computes.
public struct EvaluationPlan: Sendable {
    public var stages: [EvalStage] = [.test]
    public var settings: [EvalSetting] = [.warm, .cold]
    /// Rows: encoder(user text); mean of the last N item vectors; whitened text towers; baselines.
    public var meanOfLast: Int? = 5
    public var whitening = true
    /// Also score the user-text tower with the text popularity prior added (`PriorTarget.weight`), fitted per setting.
    public var priorWeight: Double? = nil
    /// The prior's counts: each user's last N train interactions (`PriorTarget.recent`; 0 = all).
    public var priorRecent: Int = 0

    /// The prior's target (weight and counts) for one setting of `split`, or nil when the plan adds no prior rows.
    public func priorTarget(_ split: Split, _ setting: EvalSetting) -> PriorTarget? {
        priorWeight.map { PriorTarget(split: split, setting: setting, weight: $0, recent: priorRecent) }
    }

    /// What a prior row's label adds: " + text prior", naming its counts and weight when they are not the
    /// defaults (so rows of different priors in one table, or in two tables, are not taken for each other).
    public var priorLabel: String {
        var parts: [String] = []
        if priorRecent > 0 { parts.append("last \(priorRecent)") }
        if let w = priorWeight, abs(w - PriorTarget.defaultWeight) > 1e-12 { parts.append("weight \(String(format: "%g", w))") }
        return " + text prior" + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))")
    }
    public var whiteningDim: Int? = nil
    public var baselines = true
    public var knnNeighbours = 20
    public init() {}
}

/// Runs the protocol's evaluation of an encoder's text towers (and the training-free variants and
/// baselines) and returns one table, one row per method, setting and split.
public enum TwoTowerEvaluation {
    public static func run(towers: TextTowers, plan: EvaluationPlan, label: String = "frozen",
                           log: @escaping (String) -> Void = { _ in }) throws -> ResultTable {
        let corpus = towers.corpus
        var table = ResultTable()
        let itemM = towers.items { done, total in if done == total { log("encoded \(total) item texts") } }
        let dim = itemM.dim
        let whitener = plan.whitening ? try Whitening.fit(itemM.values, dim: dim, outDim: plan.whiteningDim) : nil
        let whiteItems = try whitener?.apply(itemM.values)
        for setting in plan.settings {
            let trainHist = corpus.trainHistories(setting)
            let popularity = plan.baselines ? try Popularity(trainHistories: trainHist, itemCount: corpus.itemCount) : nil
            let knn = plan.baselines ? try ItemKNN(trainHistories: trainHist, itemCount: corpus.itemCount, k: plan.knnNeighbours) : nil
            // The prior depends on the setting's train counts and the item vectors only: one fit for every stage.
            let prior = try plan.priorTarget(corpus.split, setting)?.fit(items: itemM.values, dim: dim)
            if let prior { log(String(format: "text prior (%@): λ %.0e by cross-validation", setting.rawValue, prior.l2)) }
            for stage in plan.stages {
                let users = corpus.split.evaluatedUsers(stage, setting)
                if users.isEmpty { continue }
                let (targets, exclude) = corpus.targetsAndExclusions(users, stage)
                let hist = corpus.histories(users, stage, setting)
                let userM = towers.users(users, stage, setting)
                log("encoded \(users.count) user texts (\(setting.rawValue) \(stage.rawValue)); \(userM.truncated) cut to \(towers.userMaxLength) tokens")
                func add(_ method: String, _ ranks: [Int]) {
                    table.append(method: method, setting: setting, split: stage, ranks: ranks)
                }
                add("\(label) (user text)", try Evaluator.ranks(users: userM.values, items: itemM.values, dim: dim,
                                                                targets: targets, exclude: exclude))
                if let prior, let weight = plan.priorWeight {
                    let a = try prior.augment(users: userM.values, items: itemM.values, weight: weight)
                    add("\(label)\(plan.priorLabel) (user text)", try Evaluator.ranks(users: a.users, items: a.items, dim: a.dim,
                                                                               targets: targets, exclude: exclude))
                }
                if let n = plan.meanOfLast {
                    let pooled = try HistoryPooling.mean(lastN: n).userVectors(items: itemM.values, dim: dim, histories: hist)
                    add("\(label) (mean of last \(n))", try Evaluator.ranks(users: pooled, items: itemM.values, dim: dim,
                                                                             targets: targets, exclude: exclude))
                }
                if let whitener, let whiteItems {
                    let wu = try whitener.apply(userM.values)
                    add("\(label) whitened (user text)", try Evaluator.ranks(users: wu, items: whiteItems, dim: whitener.outDim,
                                                                             targets: targets, exclude: exclude))
                }
                if let popularity { add("popularity", try popularity.ranks(targets: targets, exclude: exclude)) }
                if let knn { add("item-kNN (k=\(plan.knnNeighbours))", try knn.ranks(histories: hist, targets: targets, exclude: exclude)) }
            }
        }
        return table
    }
}
