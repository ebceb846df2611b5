// ItemTextTower: item embeddings from an encoder that trains, with the frozen lower layers' output cached per item.
import Foundation
import RecAlignNN
import RecAlignModels
import RecAlignTensor

/// The item side of joint training: every item's text through an encoder whose parameters (or some of them)
/// train together with a head. The hidden states below the lowest layer that trains never change, so they are
/// computed once per item (ml-100k: 1682 titles x ~20 tokens x 384 floats, about 50 MB) and a step runs only
/// the layers above. With an input adapter or trained embeddings nothing is frozen below, and nothing is cached.
/// The cached states are the frozen layers' inference output, so those layers apply no dropout in training
/// (without the cache they would: `--no-layer-cache` is the same model with dropout below as well).
public final class ItemTextTower {
    public let encoder: SentenceEncoder
    /// Layers below this one hold no trainable parameter: their output is cached (0: no cache).
    public let firstTrained: Int
    /// Token ids of every item text.
    let tokens: [[Int32]]
    /// Cached hidden states after `firstTrained` layers: item i's tokens are rows offsets[i] ..< offsets[i + 1]
    /// of a [Σ T_i, C] matrix.
    var cache: [Float] = []
    var offsets: [Int] = []

    /// Tokenizes `texts` and, when `useCache` and the lowest trained layer is above 0, runs the frozen layers
    /// below it once over every text. Freeze and apply the tuning method before.
    public init(encoder: SentenceEncoder, texts: [String], useCache: Bool = true, batchSize: Int = 64) {
        self.encoder = encoder
        tokens = encoder.tokenize(texts).ids
        let model = encoder.model
        if !useCache || encoder.inputAdapter != nil || !model.embeddings.trainableParameters().isEmpty {
            firstTrained = 0
        } else {
            firstTrained = model.encoder.layer.firstIndex { !$0.trainableParameters().isEmpty } ?? model.encoder.layer.count
        }
        guard firstTrained > 0 else { return }
        let c = model.config.hiddenSize
        offsets = [0]
        for t in tokens { offsets.append(offsets.last! + t.count) }
        cache = [Float](repeating: 0, count: offsets.last! * c)
        let wasTraining = model.training
        model.train(false)
        defer { model.train(wasTraining) }
        let weights = InferenceWeights(model)
        var rng = SeededRNG(seed: 0)
        for start in stride(from: 0, to: tokens.count, by: batchSize) {
            let rows = Array(start..<min(tokens.count, start + batchSize))
            let batch = SentenceEncoder.pad(rows.map { tokens[$0] }, padID: encoder.tokenizer.padID)
            let h = Autograd.noGrad { model.hidden(batch, throughLayers: firstTrained, weights: weights, rng: &rng) }
            for (k, r) in rows.enumerated() {
                cache.withUnsafeMutableBufferPointer {
                    ($0.baseAddress! + offsets[r] * c).update(from: h.data + k * batch.length * c, count: tokens[r].count * c)
                }
            }
        }
    }

    public var itemCount: Int { tokens.count }
    public var dim: Int { encoder.dimension }
    /// Bytes held by the cache of lower-layer states.
    public var cacheBytes: Int { cache.count * MemoryLayout<Float>.size }

    /// Embeddings of every item from the encoder as it is now, inference mode: [n, dim] row-major. The same
    /// vectors as `encoder.encode(texts)` (the cached lower layers are exactly what it would compute).
    public func refresh(batchSize: Int = 64) -> [Float] {
        let model = encoder.model
        let wasTraining = model.training
        model.train(false)
        defer { model.train(wasTraining) }
        let weights = InferenceWeights(model)
        let d = dim
        var out = [Float](repeating: 0, count: itemCount * d)
        var rng = SeededRNG(seed: 0)
        // Shortest texts first, so each batch pads little.
        let order = tokens.indices.sorted { (tokens[$0].count, $0) < (tokens[$1].count, $1) }
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let rows = order[start..<min(order.count, start + batchSize)].map { Int32($0) }
            let e = Autograd.noGrad { forward(rows, weights: weights, rng: &rng) }
            for (k, r) in rows.enumerated() {
                out.withUnsafeMutableBufferPointer { ($0.baseAddress! + Int(r) * d).update(from: e.data + k * d, count: d) }
            }
        }
        return out
    }

    /// Embeddings of the items `rows` with gradients into the encoder's trainable parameters: [m, dim]. Dropout
    /// follows the model's training mode.
    public func encode(rows: [Int32], rng: inout SeededRNG) -> Tensor { forward(rows, weights: nil, rng: &rng) }

    /// The items' texts from the cache (or from the tokens) through the trained layers, pooled: [m, dim].
    func forward(_ rows: [Int32], weights: InferenceWeights?, rng: inout SeededRNG) -> Tensor {
        let model = encoder.model
        let batch = SentenceEncoder.pad(rows.map { tokens[Int($0)] }, padID: encoder.tokenizer.padID)
        guard firstTrained > 0 else { return encoder.embed(batch, weights: weights, rng: &rng) }
        let c = model.config.hiddenSize, t = batch.length
        var x = [Float](repeating: 0, count: rows.count * t * c)
        for (k, r) in rows.enumerated() {
            let lo = offsets[Int(r)] * c, n = (offsets[Int(r) + 1] - offsets[Int(r)]) * c
            x.withUnsafeMutableBufferPointer { p in
                cache.withUnsafeBufferPointer { (p.baseAddress! + k * t * c).update(from: $0.baseAddress! + lo, count: n) }
            }
        }
        let h = model.layers(firstTrained..<model.encoder.layer.count, Tensor(x, shape: [rows.count, t, c]),
                             mask: batch.mask, weights: weights, rng: &rng)
        return encoder.pooling(h, mask: Tensor(batch.mask, shape: [rows.count, t]))
    }
}
