// HardNegatives: one hard negative per training pair, mined once by the frozen retriever in a rank window.
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignData
import RecAlignTensor

/// Rank window of the frozen retriever from which a pair's hard negative is drawn: ranks `lower ..< upper`
/// (1-based, over all items except the target and the user's visible history), so the very top — likely
/// unlabelled positives — is skipped.
public struct HardNegativeWindow: Equatable, Sendable {
    public var lower: Int
    public var upper: Int
    public init(lower: Int = 30, upper: Int = 100) { self.lower = lower; self.upper = upper }
}

/// Mines hard negatives for every pair of `pairs` with `encoder` (in its current state, normally the
/// frozen base): returns one item row per pair, drawn uniformly (SplitMix64(seed)) from the window.
public func mineHardNegatives(encoder: SentenceEncoder, pairs: TrainingPairs, builder: UserTextBuilder,
                              window: HardNegativeWindow, seed: UInt64, batchSize: Int = 64) -> [Int32] {
    let items = encoder.encode(builder.itemTexts, batchSize: batchSize)
    let userTexts = (0..<pairs.count).map { pairs.texts($0, builder: builder).user }
    let users = encoder.encode(userTexts, batchSize: batchSize)
    let dim = items.dim, ni = items.rows
    var rng = SplitMix64(seed: seed)
    var out = [Int32](repeating: 0, count: pairs.count)
    var scores = [Float](repeating: 0, count: ni)
    for p in 0..<pairs.count {
        users.values.withUnsafeBufferPointer { u in items.values.withUnsafeBufferPointer { it in scores.withUnsafeMutableBufferPointer { s in
            BLAS.gemm(transA: false, transB: true, m: 1, n: ni, k: dim, a: u.baseAddress! + p * dim, lda: dim,
                      b: it.baseAddress!, ldb: dim, beta: 0, c: s.baseAddress!, ldc: ni)
        } } }
        let target = Int(pairs.target(pairs[p]))
        let seen = Set(pairs.history(pairs[p]).map(Int.init))
        let order = (0..<ni).filter { $0 != target && !seen.contains($0) }
            .sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let lo = min(max(window.lower, 1), order.count) - 1
        let hi = min(window.upper, order.count)
        let pick = hi > lo ? order[lo + rng.below(hi - lo)] : (order.last ?? target)
        out[p] = Int32(pick)
    }
    return out
}
