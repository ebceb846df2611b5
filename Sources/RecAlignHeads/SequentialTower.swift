// SequentialTower: a small transformer over a user's last N item vectors (UniSRec / SASRec-style user tower).
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignModels
import RecAlignTensor

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

    /// The causal mean of the real slots up to each slot, as a matrix [B, T, T]: row i of batch b holds
    /// mask[j] / Σ_{j' <= i} mask[j'] at j <= i, zeros elsewhere (a row with no real slot yet is all zeros), so
    /// `bmm(prefixMeans, x)` averages x over each slot's visible history; at the last slot, the whole history.
    public func prefixMeans() -> [Float] {
        let t = length
        var out = [Float](repeating: 0, count: batch * t * t)
        for b in 0..<batch {
            var count: Float = 0
            for i in 0..<t {
                count += mask[b * t + i]
                guard count > 0 else { continue }
                for j in 0...i { out[(b * t + i) * t + j] = mask[b * t + j] / count }
            }
        }
        return out
    }
}

/// Transformer over projected item vectors: x_t = LN(item_t + pos_t) -> layers -> states [B, T, H]. The
/// layers are BERT's (`BertLayer`: post-LN attention and GELU feed-forward), run causally when training on
/// every position of a window. Position p of slot j in a batch of T slots is `maxHistory - T + j` (the most
/// recent item is always position maxHistory - 1). With `bag`, each slot's state also gains `bagGate ⊙ √H ·` the
/// unit mean of the item vectors visible to it (a mean tower's user vector, which needs no order; scaled to the
/// layer-normed states' unit RMS), the gate starting at one: the tower learns how much of the unordered profile to
/// keep beside what it reads from the order.
public final class SequentialTower: Module {
    public let position: Embedding
    public let inputNorm: LayerNorm
    public let layer: [BertLayer]
    /// [H] weights of the bag path, initially 1 (nil without it).
    public let bagGate: Tensor?
    let dropout: Dropout
    let maxHistory: Int

    public init(dim: Int, layers: Int, heads: Int, ffn: Int, maxHistory: Int, dropout p: Float, bag: Bool = false,
                rng: inout SeededRNG) {
        position = Embedding(maxHistory, dim, std: 0.02, rng: &rng)
        inputNorm = LayerNorm(dim, eps: 1e-12)
        var c = BertConfig()
        c.hiddenSize = dim; c.numAttentionHeads = heads; c.intermediateSize = ffn; c.layerNormEps = 1e-12
        c.hiddenDropoutProb = Double(p); c.attentionProbsDropoutProb = Double(p)
        layer = (0..<layers).map { _ in BertLayer(c, rng: &rng) }
        bagGate = bag ? Tensor([Float](repeating: 1, count: dim), shape: [dim], requiresGrad: true) : nil
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
        for l in layer { h = l(h, mask: keyMask, causal: causal, rng: &rng) }
        if let bagGate {
            // [B, T, T] · [B, T, H]: the causal mean at every slot (causal or not, the last slot sees everything),
            // scaled to unit RMS per coordinate as the layer-normed states are (a gate at 0 left it no weight to learn).
            let means = bmm(Tensor(batch.prefixMeans(), shape: [b, t, t]), x)
            h = add(h, mul(scale(l2Normalize(means), Float(bagGate.count).squareRoot()), bagGate))
        }
        return h
    }

    /// The state at the most recent slot of each history: [B, H].
    public func callAsFunction(items: Tensor, batch: HistoryBatch, rng: inout SeededRNG) -> Tensor {
        selectToken(states(items: items, batch: batch, causal: false, rng: &rng), index: batch.length - 1)
    }

    /// The name a parameter had before the tower ran on `BertLayer` (`layer.0.query.weight` for today's
    /// `layer.0.attention.self.query.weight`), so heads saved then still load; nil for other names.
    public static func legacyName(_ name: String) -> String? {
        let renames = [("attention.self.query.", "query."), ("attention.self.key.", "key."), ("attention.self.value.", "value."),
                       ("attention.output.dense.", "output."), ("attention.output.LayerNorm.", "norm1."),
                       ("intermediate.dense.", "up."), ("output.dense.", "down."), ("output.LayerNorm.", "norm2.")]
        for (new, old) in renames {
            if let r = name.range(of: ".layer."), let hit = name.range(of: "." + new, range: r.upperBound..<name.endIndex) {
                return name.replacingCharacters(in: hit, with: "." + old)
            }
        }
        return nil
    }
}
