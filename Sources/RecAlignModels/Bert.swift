// Bert: the BERT encoder as Modules whose property paths are the Hugging Face weight names.
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTensor

/// Word + position + token-type embeddings, LayerNorm, dropout (HF `BertEmbeddings`).
public final class BertEmbeddings: Module {
    public let word_embeddings: Embedding
    public let position_embeddings: Embedding
    public let token_type_embeddings: Embedding
    public let LayerNorm: RecAlignNN.LayerNorm
    let dropout: Dropout

    init(_ c: BertConfig, rng: inout SeededRNG) {
        word_embeddings = Embedding(c.vocabSize, c.hiddenSize, rng: &rng)
        position_embeddings = Embedding(c.maxPositionEmbeddings, c.hiddenSize, rng: &rng)
        token_type_embeddings = Embedding(c.typeVocabSize, c.hiddenSize, rng: &rng)
        LayerNorm = .init(c.hiddenSize, eps: Float(c.layerNormEps))
        dropout = Dropout(Float(c.hiddenDropoutProb))
    }

    /// Shapes: word vectors [B, T, C] (looked up in `word_embeddings`, possibly edited by an input adapter)
    /// -> [B, T, C] with position and token-type embeddings added, normalised, dropped out.
    func callAsFunction(words: Tensor, rng: inout SeededRNG) -> Tensor {
        let total = words.shape[1]
        precondition(total <= position_embeddings.weight.shape[0], "sequence of \(total) tokens exceeds the model's positions")
        let positions = position_embeddings((0..<Int32(total)).map { $0 }, shape: [total])
        let types = token_type_embeddings([Int32](repeating: 0, count: total), shape: [total])
        let x = add(add(words, types), positions)
        return dropout(LayerNorm(x), rng: &rng)
    }
}

/// Q, K, V projections and per-head scaled dot-product attention (HF `BertSelfAttention`). The projections
/// are `LinearLayer`s: an adapter (LoRA, IA3) replaces one by a module that wraps it.
public final class BertSelfAttention: Module {
    public var query: any LinearLayer
    public var key: any LinearLayer
    public var value: any LinearLayer
    let heads: Int
    let dropout: Dropout

    init(_ c: BertConfig, rng: inout SeededRNG) {
        query = Linear(c.hiddenSize, c.hiddenSize, rng: &rng)
        key = Linear(c.hiddenSize, c.hiddenSize, rng: &rng)
        value = Linear(c.hiddenSize, c.hiddenSize, rng: &rng)
        heads = c.numAttentionHeads
        dropout = Dropout(Float(c.attentionProbsDropoutProb))
    }

    /// Shapes: x [B, T, C], additive mask [B, S] with S = P + T for extra keys / values [P, C] (prefix
    /// tuning) -> context [B, T_q, C]. `queryRows` picks the rows that ask (all of x when nil) and `queries` is
    /// it applied to x; keys and values come from every row. `causal`: token t attends to tokens <= t only.
    /// With `weights` (inference) one stacked GEMM gives Q, K and V; without, the modules run with autograd
    /// and dropout (training).
    func callAsFunction(_ x: Tensor, queries: Tensor?, mask: Tensor, causal: Bool, extra: (key: Tensor, value: Tensor)?,
                        queryRows: ((Tensor) -> Tensor)?, weights: InferenceWeights.Projection?, rng: inout SeededRNG) -> Tensor {
        let c = x.shape[2], scale = 1 / Float(c / heads).squareRoot()
        var q: Tensor, k: Tensor, v: Tensor
        if let weights {
            let qkv = weights(x)
            if extra == nil && queryRows == nil { return attentionInference(packed: qkv, mask: mask, heads: heads, scale: scale) }
            q = narrow(qkv, axis: 2, start: 0, length: c); k = narrow(qkv, axis: 2, start: c, length: c)
            v = narrow(qkv, axis: 2, start: 2 * c, length: c)
            if let queryRows { q = queryRows(q) }
        } else {
            q = query(queries ?? x); k = key(x); v = value(x)
        }
        if let extra {
            let b = x.shape[0]
            k = concat([repeatBatch(extra.key, b), k], axis: 1)
            v = concat([repeatBatch(extra.value, b), v], axis: 1)
        }
        if weights != nil { return attentionInference(q, k, v, mask: mask, heads: heads, scale: scale) }
        return attention(q, k, v, mask: mask, heads: heads, scale: scale, causal: causal, dropout: training ? dropout.p : 0, rng: &rng)
    }
}

/// Output projection + dropout + residual + LayerNorm (HF `BertSelfOutput` and `BertOutput`).
public final class BertResidualOutput: Module {
    public var dense: any LinearLayer
    public let LayerNorm: RecAlignNN.LayerNorm
    let dropout: Dropout

    init(_ nIn: Int, _ c: BertConfig, rng: inout SeededRNG) {
        dense = Linear(nIn, c.hiddenSize, rng: &rng)
        LayerNorm = .init(c.hiddenSize, eps: Float(c.layerNormEps))
        dropout = Dropout(Float(c.hiddenDropoutProb))
    }

    /// h [B, T, nIn], residual [B, T, C] -> [B, T, C]; `weights` replace `dense` in inference.
    func callAsFunction(_ h: Tensor, residual: Tensor, weights: InferenceWeights.Projection?, rng: inout SeededRNG) -> Tensor {
        LayerNorm(add(dropout(weights?(h) ?? dense(h), rng: &rng), residual))
    }
}

/// Self-attention block (HF `BertAttention`: `self` and `output`).
public final class BertAttention: Module {
    public let selfAttention: BertSelfAttention
    public let output: BertResidualOutput

    override public func key(for label: String) -> String { label == "selfAttention" ? "self" : label }

    init(_ c: BertConfig, rng: inout SeededRNG) {
        selfAttention = BertSelfAttention(c, rng: &rng)
        output = BertResidualOutput(c.hiddenSize, c, rng: &rng)
    }
}

/// Feed-forward up-projection with GELU (HF `BertIntermediate`).
public final class BertIntermediate: Module {
    public var dense: any LinearLayer
    init(_ c: BertConfig, rng: inout SeededRNG) { dense = Linear(c.hiddenSize, c.intermediateSize, rng: &rng) }
}

/// One transformer layer (HF `BertLayer`).
public final class BertLayer: Module {
    public let attention: BertAttention
    public let intermediate: BertIntermediate
    public let output: BertResidualOutput

    /// A randomly initialised layer of `c`'s sizes (hidden, heads, intermediate, dropout, LayerNorm eps).
    public init(_ c: BertConfig, rng: inout SeededRNG) {
        attention = BertAttention(c, rng: &rng)
        intermediate = BertIntermediate(c, rng: &rng)
        output = BertResidualOutput(c.intermediateSize, c, rng: &rng)
    }

    /// Its projections by module path below the layer, with the key path that holds each: the one table an
    /// adapter uses to find and swap the modules it targets (PEFT matches `target_modules` against these names).
    public static let projections: [(name: String, slot: ReferenceWritableKeyPath<BertLayer, any LinearLayer>)] = [
        ("attention.self.query", \.attention.selfAttention.query), ("attention.self.key", \.attention.selfAttention.key),
        ("attention.self.value", \.attention.selfAttention.value), ("attention.output.dense", \.attention.output.dense),
        ("intermediate.dense", \.intermediate.dense), ("output.dense", \.output.dense),
    ]

    /// x [B, T, C], additive key mask [B, S] -> [B, T_q, C]: `queryRows` picks the rows computed (all when
    /// nil), each attending to every row of x (`causal`: to the rows up to its own). `extra`: keys and values
    /// [P, C] every row also attends to. `weights`: inference with prepared weights; nil: training (autograd,
    /// dropout in training mode). The sequential user tower runs the same layer, causal.
    public func callAsFunction(_ x: Tensor, mask: Tensor, causal: Bool = false, extra: (key: Tensor, value: Tensor)? = nil,
                               queryRows: ((Tensor) -> Tensor)? = nil, weights: InferenceWeights.Layer? = nil,
                               rng: inout SeededRNG) -> Tensor {
        let queries = queryRows?(x)
        let ctx = attention.selfAttention(x, queries: queries, mask: mask, causal: causal, extra: extra, queryRows: queryRows,
                                          weights: weights?.qkv, rng: &rng)
        let h = attention.output(ctx, residual: queries ?? x, weights: weights?.attentionOutput, rng: &rng)
        let up = weights?.intermediate(h) ?? intermediate.dense(h)
        return output(gelu(up), residual: h, weights: weights?.output, rng: &rng)
    }
}

/// The layer stack (HF `BertEncoder`).
public final class BertEncoder: Module {
    public let layer: [BertLayer]
    init(_ c: BertConfig, rng: inout SeededRNG) { layer = (0..<c.numHiddenLayers).map { _ in BertLayer(c, rng: &rng) } }
}

/// Inputs of one padded batch: token ids and attention mask, both [B, T] row-major.
public struct TokenBatch {
    public var ids: [Int32]
    public var mask: [Float]
    public var batch: Int
    public var length: Int
    public init(ids: [Int32], mask: [Float], batch: Int, length: Int) {
        precondition(ids.count == batch * length && mask.count == batch * length, "TokenBatch: \(ids.count) ids for \(batch)x\(length)")
        self.ids = ids; self.mask = mask; self.batch = batch; self.length = length
    }

    /// The rows of `range`, re-padded to their own longest sequence (masks are 1 on a prefix of each row).
    public func rows(_ range: Range<Int>) -> TokenBatch {
        let lo = range.lowerBound, hi = range.upperBound
        precondition(0 <= lo && lo <= hi && hi <= batch, "TokenBatch.rows \(lo)..<\(hi) of \(batch)")
        var t = 1
        for r in lo..<hi {
            var n = length
            while n > t && mask[r * length + n - 1] == 0 { n -= 1 }
            t = max(t, n)
        }
        var ids = [Int32](), m = [Float]()
        ids.reserveCapacity((hi - lo) * t); m.reserveCapacity((hi - lo) * t)
        for r in lo..<hi {
            ids += self.ids[(r * length)..<(r * length + t)]
            m += mask[(r * length)..<(r * length + t)]
        }
        return TokenBatch(ids: ids, mask: m, batch: hi - lo, length: t)
    }
}

/// The BERT encoder (HF `BertModel` without its pooler): token ids -> last hidden states [B, T, C].
public final class BertModel: Module {
    public let embeddings: BertEmbeddings
    public let encoder: BertEncoder
    public let config: BertConfig

    /// A randomly initialised model (weights are normally loaded with `BertWeights.load`).
    public init(config: BertConfig, seed: UInt64 = 0) {
        var rng = SeededRNG(seed: seed)
        self.config = config
        embeddings = BertEmbeddings(config, rng: &rng)
        encoder = BertEncoder(config, rng: &rng)
    }

    /// The encoder's base projections (Q, K, V, attention output, intermediate, output of every layer; under
    /// an adapter, the projection it wraps).
    public var projections: [Linear] {
        encoder.layer.flatMap { l in BertLayer.projections.map { l[keyPath: $0.slot].base } }
    }

    /// Packs every frozen projection's weight for OpenBLAS's kernel, for the forward product and for the
    /// input gradient (prompt, prefix and adapter training run every step through the frozen weights), and
    /// drops the packs of trainable ones. Call after freezing or unfreezing.
    public func packFrozenWeights() {
        for p in projections {
            p.packed = p.weight.requiresGrad ? (nil, nil) : (PackedWeight(p.weight), PackedWeight(p.weight, transposed: true))
        }
    }

    /// Forward pass. Shapes: batch [B, T] -> hidden [B, T', C] and `poolMask` [B, T'] (1 on the rows pooled
    /// into the sentence vector). An input adapter may insert P tokens after [CLS] (T' = T + P) and supply
    /// extra keys / values per layer. When the inserted tokens are not pooled, the last layer computes only the
    /// text's rows (the others would be thrown away): hidden is [B, T, C] and `poolMask` the batch's mask.
    /// `weights` (from `InferenceWeights(model)`): inference; nil: autograd, with dropout in training mode.
    public func callAsFunction(_ batch: TokenBatch, adapter: (any InputAdapter)? = nil, weights: InferenceWeights? = nil,
                               rng: inout SeededRNG) -> (hidden: Tensor, poolMask: Tensor) {
        let b = batch.batch, t = batch.length, p = adapter?.insertedTokens ?? 0, pk = adapter?.extraKeyCount ?? 0
        var words = embeddings.word_embeddings(batch.ids, shape: [b, t])
        if let adapter, p > 0 { words = adapter.insert(into: words) }
        var x = embeddings(words: words, rng: &rng)
        let total = t + p
        // Token mask over the T' tokens (inserted tokens are tokens).
        var tokens = [Float](repeating: 0, count: b * total)
        for bi in 0..<b {
            tokens[bi * total] = batch.mask[bi * t]
            for j in 0..<p { tokens[bi * total + 1 + j] = 1 }
            for ti in 1..<max(t, 1) { tokens[bi * total + p + ti] = batch.mask[bi * t + ti] }
        }
        // Additive attention mask over the S = P_k + T' keys: 0 for extra keys and tokens, finfo.min for padding.
        let s = pk + total
        var additive = [Float](repeating: 0, count: b * s)
        for bi in 0..<b { for j in 0..<total where tokens[bi * total + j] == 0 { additive[bi * s + pk + j] = -Float.greatestFiniteMagnitude } }
        let mask = Tensor(additive, shape: [b, s])
        let pooled = adapter?.poolsInsertedTokens ?? false
        let textOnlyLast = p > 0 && !pooled && t >= 2
        let textRows: (Tensor) -> Tensor = { y in
            concat([narrow(y, axis: 1, start: 0, length: 1), narrow(y, axis: 1, start: 1 + p, length: t - 1)], axis: 1)
        }
        for (i, layer) in encoder.layer.enumerated() {
            let last = textOnlyLast && i == encoder.layer.count - 1
            x = layer(x, mask: mask, extra: adapter?.extraKeysValues(layer: i), queryRows: last ? textRows : nil,
                      weights: weights?.layers[i], rng: &rng)
        }
        if textOnlyLast { return (x, Tensor(batch.mask, shape: [b, t])) }
        var pool = tokens
        if p > 0 && !pooled { for bi in 0..<b { for j in 0..<p { pool[bi * total + 1 + j] = 0 } } }
        return (x, Tensor(pool, shape: [b, total]))
    }

    /// Hidden states after the first `count` layers (the embeddings' output when 0), without an input adapter:
    /// batch [B, T] -> [B, T, C]. With `layers(_:_:mask:)` over the rest it is the forward pass split in two, so
    /// the output of frozen lower layers can be computed once and kept.
    public func hidden(_ batch: TokenBatch, throughLayers count: Int, weights: InferenceWeights? = nil,
                       rng: inout SeededRNG) -> Tensor {
        let x = embeddings(words: embeddings.word_embeddings(batch.ids, shape: [batch.batch, batch.length]), rng: &rng)
        return layers(0..<count, x, mask: batch.mask, weights: weights, rng: &rng)
    }

    /// Layers `range` over hidden states x [B, T, C] with token mask `mask` [B·T] (1 on tokens): [B, T, C].
    public func layers(_ range: Range<Int>, _ x: Tensor, mask: [Float], weights: InferenceWeights? = nil,
                       rng: inout SeededRNG) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= encoder.layer.count, "BertModel.layers: \(range) of \(encoder.layer.count)")
        let additive = Tensor(mask.map { $0 == 0 ? -Float.greatestFiniteMagnitude : 0 }, shape: [x.shape[0], x.shape[1]])
        var h = x
        for i in range { h = encoder.layer[i](h, mask: additive, weights: weights?.layers[i], rng: &rng) }
        return h
    }
}
