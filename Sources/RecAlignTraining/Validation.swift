// Validation: the default retrieval validation of a training run (encode items and users, dot product, protocol ranks).
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignData
import RecAlignRetrieval
import RecAlignTensor
import RecAlignMetrics

/// The users, texts, targets and exclusions of one stage and setting, ready to score any encoder.
/// Scores are dot products of L2-normalised vectors; ranks follow PROTOCOL section 4 (`RankMetrics.rank`
/// with `Split.exclusionSet`).
public struct RetrievalValidation: Sendable {
    public let itemTexts: [String]
    public let userTexts: [String]
    public let targets: [Int]
    public let exclusions: [Set<Int>]
    /// Texts per encoder batch.
    public var batchSize = 64
    /// Adds a text popularity prior (fitted on the encoder's item vectors at every evaluation) to the scores.
    public var prior: PriorTarget?

    /// User texts are built from `Split.history(user:stage:setting:)` with `builder` (max length 128 in the
    /// protocol) for the stage's evaluated users.
    public init(split: Split, builder: UserTextBuilder, stage: EvalStage = .valid, setting: EvalSetting) {
        itemTexts = builder.itemTexts
        let users = split.evaluatedUsers(stage, setting).map(Int.init)
        userTexts = users.map { builder.text(split: split, user: $0, stage: stage, setting: setting).text }
        targets = users.map { Int(split.target(user: $0, stage: stage).itemRow) }
        exclusions = users.map { split.exclusionSet(user: $0, stage: stage) }
    }

    /// Metrics of `encoder` (encoded in inference mode with its current prompts / adapters).
    public func evaluate(_ encoder: SentenceEncoder) throws -> MetricSummary {
        // Under MPI the ranks encode their shares and every rank scores the whole (same metrics on every rank).
        var items = normalisedRows(encoder.encodeSharded(itemTexts, batchSize: batchSize, result: .everyRank))
        var users = normalisedRows(encoder.encodeSharded(userTexts, batchSize: batchSize, result: .everyRank))
        var dim = encoder.dimension
        if let prior { (users, items, dim, _) = try prior.apply(users: users, items: items, dim: dim) }
        return MetricSummary(ranks: RetrievalValidation.ranks(users: users, items: items, dim: dim,
                                                               targets: targets, exclusions: exclusions))
    }

    /// The closure form the trainer takes.
    public var closure: (SentenceEncoder) throws -> MetricSummary { { try self.evaluate($0) } }

    /// Rows scaled to unit length (zero rows stay zero).
    func normalisedRows(_ m: EmbeddingMatrix) -> [Float] {
        var v = m.values
        for r in 0..<m.rows {
            var s: Float = 0
            for j in 0..<m.dim { s += v[r * m.dim + j] * v[r * m.dim + j] }
            let f: Float = s > 0 ? 1 / s.squareRoot() : 0
            for j in 0..<m.dim { v[r * m.dim + j] *= f }
        }
        return v
    }

    /// Protocol ranks of each user's target: scores = users · itemsᵀ in blocks of 256 users.
    static func ranks(users: [Float], items: [Float], dim: Int, targets: [Int], exclusions: [Set<Int>]) -> [Int] {
        let nu = targets.count, ni = items.count / max(dim, 1), block = 256
        var ranks = [Int](repeating: 0, count: nu)
        var scores = [Float](repeating: 0, count: block * ni)
        for start in stride(from: 0, to: nu, by: block) {
            let m = min(block, nu - start)
            users.withUnsafeBufferPointer { u in items.withUnsafeBufferPointer { it in scores.withUnsafeMutableBufferPointer { s in
                BLAS.gemm(transA: false, transB: true, m: m, n: ni, k: dim, a: u.baseAddress! + start * dim, lda: dim,
                          b: it.baseAddress!, ldb: dim, beta: 0, c: s.baseAddress!, ldc: ni)
            } } }
            scores.withUnsafeBufferPointer { s in
                for r in 0..<m {
                    ranks[start + r] = RankMetrics.rank(scores: UnsafeBufferPointer(rebasing: s[(r * ni)..<((r + 1) * ni)]),
                                                        target: targets[start + r], excluded: exclusions[start + r])
                }
            }
        }
        return ranks
    }
}

/// Mean MNRL loss of `encoder` (inference mode, no dropout) over held-out (user text, item text) pairs cut
/// into batches of `batchSize`: the validation loss a short training run should lower.
public func heldOutLoss(_ encoder: SentenceEncoder, userTexts: [String], itemTexts: [String], batchSize: Int = 32,
                        loss: MultipleNegativesRankingLoss = .init()) -> Float {
    precondition(userTexts.count == itemTexts.count, "heldOutLoss: one item text per user text")
    let wasTraining = encoder.model.training
    encoder.model.train(false)
    defer { encoder.model.train(wasTraining) }
    var rng = SeededRNG(seed: 0)
    var total: Float = 0, batches = 0
    for start in stride(from: 0, to: userTexts.count, by: batchSize) {
        let r = start..<min(userTexts.count, start + batchSize)
        guard r.count > 1 else { continue }
        let l: Float = Autograd.noGrad {
            let u = encoder.embed(SentenceEncoder.pad(encoder.tokenize(Array(userTexts[r])).ids, padID: encoder.tokenizer.padID), rng: &rng)
            let i = encoder.embed(SentenceEncoder.pad(encoder.tokenize(Array(itemTexts[r])).ids, padID: encoder.tokenizer.padID), rng: &rng)
            return loss(anchors: u, candidates: i)[0]
        }
        total += l; batches += 1
    }
    return batches > 0 ? total / Float(batches) : 0
}
