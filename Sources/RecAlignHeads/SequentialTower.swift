// SequentialTower: a small transformer over a user's last N item vectors (UniSRec / SASRec-style user tower).
import Foundation
import RecAlignNN
import RecAlignTensor

/// One post-LN transformer layer (as BERT): attention + residual + LayerNorm, GELU feed-forward + residual + LayerNorm.
public final class SeqLayer: Module {
    public let query: Linear, key: Linear, value: Linear, output: Linear
    public let norm1: LayerNorm
    public let up: Linear, down: Linear
    public let norm2: LayerNorm
    let heads: Int
    let dropout: Dropout

    init(dim: Int, heads: Int, ffn: Int, dropout p: Float, rng: inout SeededRNG) {
        query = Linear(dim, dim, rng: &rng); key = Linear(dim, dim, rng: &rng)
        value = Linear(dim, dim, rng: &rng); output = Linear(dim, dim, rng: &rng)
        norm1 = LayerNorm(dim, eps: 1e-12)
        up = Linear(dim, ffn, rng: &rng); down = Linear(ffn, dim, rng: &rng)
        norm2 = LayerNorm(dim, eps: 1e-12)
        self.heads = heads
        dropout = Dropout(p)
    }

    /// x [B, T, C]; `keyMask` [B, T] additive (0 real, very negative for padding); `causal` [T, T] additive
    /// (or nil) added to every head's scores -> [B, T, C].
    func callAsFunction(_ x: Tensor, keyMask: Tensor, causal: Tensor?, rng: inout SeededRNG) -> Tensor {
        let c = x.shape[2], d = c / heads
        let q = query(x), k = key(x), v = value(x)
        var s = attentionScores(q, k, heads: heads, scale: 1 / Float(d).squareRoot())
        if let causal { s = add(s, causal) }
        let p = dropout(softmax(s, mask: keyMask), rng: &rng)
        let h = norm1(add(x, dropout(output(attentionContext(p, v)), rng: &rng)))
        return norm2(add(h, dropout(down(gelu(up(h))), rng: &rng)))
    }
}

/// Histories of a batch laid out for the tower: right-aligned (left-padded) so that the most recent item is
/// always the last slot, and positions counted from the end, so padding changes nothing for real items.
public struct HistoryBatch: Sendable {
    /// Item rows [B·T] (padding slots hold 0; they are masked).
    public var ids: [Int32]
    /// 1 for real slots, 0 for padding [B·T].
    public var mask: [Float]
    public var batch: Int
    public var length: Int

    /// The last `maxHistory` items of each history (oldest first) padded on the left to the longest kept
    /// history (at least `minLength` slots). An empty history gets one masked slot.
    public init(_ histories: [ArraySlice<Int32>], maxHistory: Int, minLength: Int = 1) {
        let kept = histories.map { $0.suffix(maxHistory) }
        let t = max(minLength, kept.map(\.count).max() ?? 0, 1)
        batch = histories.count; length = t
        ids = [Int32](repeating: 0, count: batch * t); mask = [Float](repeating: 0, count: batch * t)
        for (b, h) in kept.enumerated() {
            let start = t - h.count
            for (j, item) in h.enumerated() { ids[b * t + start + j] = item; mask[b * t + start + j] = 1 }
        }
    }
}

/// Transformer over projected item vectors: x_t = LN(item_t + pos_t) -> layers -> states [B, T, H].
/// Position p of slot j in a batch of T slots is `maxHistory - T + j` (the most recent item is always
/// position maxHistory - 1).
public final class SequentialTower: Module {
    public let position: Embedding
    public let inputNorm: LayerNorm
    public let layer: [SeqLayer]
    let dropout: Dropout
    let maxHistory: Int

    public init(dim: Int, layers: Int, heads: Int, ffn: Int, maxHistory: Int, dropout p: Float, rng: inout SeededRNG) {
        position = Embedding(maxHistory, dim, std: 0.02, rng: &rng)
        inputNorm = LayerNorm(dim, eps: 1e-12)
        layer = (0..<layers).map { _ in SeqLayer(dim: dim, heads: heads, ffn: ffn, dropout: p, rng: &rng) }
        dropout = Dropout(p)
        self.maxHistory = maxHistory
    }

    /// States of every slot: `items` [n_items, H] (the projected item vectors), batch [B, T] -> [B, T, H].
    /// With `causal`, slot t attends only to slots <= t (training on every position of a window at once).
    public func states(items: Tensor, batch: HistoryBatch, causal: Bool, rng: inout SeededRNG) -> Tensor {
        let b = batch.batch, t = batch.length
        precondition(t <= maxHistory, "SequentialTower: \(t) slots for \(maxHistory) positions")
        let x = embedding(items, ids: batch.ids, shape: [b, t])
        let pos = position.weight.slice((maxHistory - t)..<maxHistory)               // [T, H]
        var h = dropout(inputNorm(add(x, pos)), rng: &rng)
        var additive = [Float](repeating: 0, count: b * t)
        for i in 0..<(b * t) where batch.mask[i] == 0 { additive[i] = -Float.greatestFiniteMagnitude }
        let keyMask = Tensor(additive, shape: [b, t])
        var causalMask: Tensor? = nil
        if causal {
            var cm = [Float](repeating: 0, count: t * t)
            for i in 0..<t { for j in (i + 1)..<max(i + 1, t) { cm[i * t + j] = -1e9 } }
            causalMask = Tensor(cm, shape: [t, t])
        }
        for l in layer { h = l(h, keyMask: keyMask, causal: causalMask, rng: &rng) }
        return h
    }

    /// The state at the most recent slot of each history: [B, H].
    public func callAsFunction(items: Tensor, batch: HistoryBatch, rng: inout SeededRNG) -> Tensor {
        selectToken(states(items: items, batch: batch, causal: false, rng: &rng), index: batch.length - 1)
    }
}
