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

    /// Shapes: ids [B·T] -> [B, T', C] with T' = T + P when `prompt` [P, C] is given: the P virtual
    /// token vectors go right after [CLS], and positions run over all T' tokens.
    func callAsFunction(ids: [Int32], batch b: Int, length t: Int, prompt: Tensor?, rng: inout SeededRNG) -> Tensor {
        var words = word_embeddings(ids, shape: [b, t])
        if let prompt {
            let p = prompt.shape[0]
            let cls = narrow(words, axis: 1, start: 0, length: 1)
            let rest = narrow(words, axis: 1, start: 1, length: t - 1)
            words = concat([cls, repeatBatch(prompt, b), rest], axis: 1)
            precondition(t + p <= position_embeddings.weight.shape[0], "sequence of \(t + p) tokens exceeds the model's positions")
        }
        let total = words.shape[1]
        let positions = position_embeddings((0..<Int32(total)).map { $0 }, shape: [total])
        let types = token_type_embeddings([Int32](repeating: 0, count: total), shape: [total])
        let x = add(add(words, types), positions)
        return dropout(LayerNorm(x), rng: &rng)
    }
}

/// Q, K, V projections and per-head scaled dot-product attention (HF `BertSelfAttention`).
public final class BertSelfAttention: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    /// Optional LoRA adapters on the query and value projections (PEFT's default targets).
    public var query_lora: LoRA?
    public var value_lora: LoRA?
    /// Q, K and V weights stacked [3C, C] (and packed for OpenBLAS's kernel) and biases [3C] for inference,
    /// set only inside `BertModel.withInferenceWeights` (the weights cannot change there); nil otherwise.
    var stackedQKV: (weight: Tensor, bias: Tensor, packed: PackedWeight?)?
    let heads: Int
    let dropout: Dropout

    init(_ c: BertConfig, rng: inout SeededRNG) {
        query = Linear(c.hiddenSize, c.hiddenSize, rng: &rng)
        key = Linear(c.hiddenSize, c.hiddenSize, rng: &rng)
        value = Linear(c.hiddenSize, c.hiddenSize, rng: &rng)
        heads = c.numAttentionHeads
        dropout = Dropout(Float(c.attentionProbsDropoutProb))
    }

    /// x [B, T, C], additive mask [B, S] (S = P + T with prefix keys/values [P, C]) -> context [B, T, C].
    /// With `queries` [B, T_q, C] (a subset of x's rows), only those rows ask: keys and values still come from
    /// every row of x, and the context is [B, T_q, C].
    func callAsFunction(_ x: Tensor, queries: Tensor? = nil, mask: Tensor, prefix: (key: Tensor, value: Tensor)?,
                        rng: inout SeededRNG) -> Tensor {
        let d = x.shape[2] / heads
        let inference = !Autograd.isGradEnabled || !(x.requiresGrad || query.weight.requiresGrad || key.weight.requiresGrad
            || value.weight.requiresGrad || query_lora != nil || value_lora != nil || prefix != nil)
        if inference && !(training && dropout.p > 0) && query_lora == nil && value_lora == nil && prefix == nil && queries == nil {
            // One GEMM for Q, K and V (weights stacked [3C, C]), then fused attention per head.
            let qkv = Autograd.noGrad { () -> Tensor in
                if let (w, b, p) = stackedQKV { return linear(x, weight: w, bias: b, packed: p) }
                let (w, b) = stackQKV()
                return linear(x, weight: w, bias: b)
            }
            return attentionInference(packed: qkv, mask: mask, heads: heads, scale: 1 / Float(d).squareRoot())
        }
        let xq = queries ?? x
        var q = query(xq), k = key(x), v = value(x)
        if let query_lora { q = add(q, query_lora(xq)) }
        if let value_lora { v = add(v, value_lora(x)) }
        if let prefix {
            let b = x.shape[0]
            k = concat([repeatBatch(prefix.key, b), k], axis: 1)
            v = concat([repeatBatch(prefix.value, b), v], axis: 1)
        }
        if !Autograd.needsGrad(q, k, v) && !(training && dropout.p > 0) {
            return attentionInference(q, k, v, mask: mask, heads: heads, scale: 1 / Float(d).squareRoot())
        }
        return attention(q, k, v, mask: mask, heads: heads, scale: 1 / Float(d).squareRoot(),
                         dropout: training ? dropout.p : 0, rng: &rng)
    }

    /// Copies of the Q, K, V weights stacked [3C, C] and biases [3C] (one GEMM computes all three).
    func stackQKV() -> (weight: Tensor, bias: Tensor) {
        Autograd.noGrad {
            (concat([query.weight, key.weight, value.weight], axis: 0), concat([query.bias!, key.bias!, value.bias!], axis: 0))
        }
    }
}

/// Output projection + dropout + residual + LayerNorm (HF `BertSelfOutput` and `BertOutput`).
public final class BertResidualOutput: Module {
    public let dense: Linear
    public let LayerNorm: RecAlignNN.LayerNorm
    let dropout: Dropout

    init(_ nIn: Int, _ c: BertConfig, rng: inout SeededRNG) {
        dense = Linear(nIn, c.hiddenSize, rng: &rng)
        LayerNorm = .init(c.hiddenSize, eps: Float(c.layerNormEps))
        dropout = Dropout(Float(c.hiddenDropoutProb))
    }

    func callAsFunction(_ h: Tensor, residual: Tensor, rng: inout SeededRNG) -> Tensor {
        LayerNorm(add(dropout(dense(h), rng: &rng), residual))
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
    public let dense: Linear
    init(_ c: BertConfig, rng: inout SeededRNG) { dense = Linear(c.hiddenSize, c.intermediateSize, rng: &rng) }
}

/// One transformer layer (HF `BertLayer`).
public final class BertLayer: Module {
    public let attention: BertAttention
    public let intermediate: BertIntermediate
    public let output: BertResidualOutput

    init(_ c: BertConfig, rng: inout SeededRNG) {
        attention = BertAttention(c, rng: &rng)
        intermediate = BertIntermediate(c, rng: &rng)
        output = BertResidualOutput(c.intermediateSize, c, rng: &rng)
    }

    /// x [B, T, C] -> [B, T, C]; with `queries` [B, T_q, C] (a subset of x's rows) -> [B, T_q, C]: only those
    /// rows are computed, attending to every row of x.
    func callAsFunction(_ x: Tensor, queries: Tensor? = nil, mask: Tensor, prefix: (key: Tensor, value: Tensor)?,
                        rng: inout SeededRNG) -> Tensor {
        let ctx = attention.selfAttention(x, queries: queries, mask: mask, prefix: prefix, rng: &rng)
        let h = attention.output(ctx, residual: queries ?? x, rng: &rng)
        return output(gelu(intermediate.dense(h)), residual: h, rng: &rng)
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

/// Trainable inputs that prompt methods add to a frozen encoder.
public struct PromptInputs {
    /// Soft prompt [P, C]: virtual tokens inserted after [CLS].
    public var softPrompt: Tensor?
    /// Per-layer prefix keys and values, each [P, C] (prefix tuning / P-tuning v2).
    public var prefixes: [(key: Tensor, value: Tensor)]?
    /// Whether the soft prompt's virtual tokens count in the pooling mask. Default false: they attend and
    /// are attended to, but the sentence vector pools the text's own tokens, so an untrained prompt starts
    /// near the frozen embedding (pooling 20 shared vectors into every text first blurs all texts together).
    public var poolVirtualTokens: Bool
    public init(softPrompt: Tensor? = nil, prefixes: [(key: Tensor, value: Tensor)]? = nil, poolVirtualTokens: Bool = false) {
        self.softPrompt = softPrompt; self.prefixes = prefixes; self.poolVirtualTokens = poolVirtualTokens
    }
    /// Virtual tokens added to the sequence.
    public var promptLength: Int { softPrompt?.shape[0] ?? 0 }
    public var prefixLength: Int { prefixes?.first?.key.shape[0] ?? 0 }
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

    /// Runs `body` with every layer's weights prepared once for inference instead of once per batch per
    /// layer: Q, K and V stacked, and every projection packed for OpenBLAS's kernel (`PackedWeight`; skipped
    /// when the kernels are unavailable). The weights must not change inside `body` (it is one `encode`
    /// call); a nested call reuses the outer preparation.
    /// Q, K and V are also packed one by one when something takes the unstacked attention path: `prompts` (a
    /// soft prompt's last layer, prefixes) or LoRA layers. Plain texts need only the stacked pack.
    public func withInferenceWeights<R>(prompts: PromptInputs = PromptInputs(), _ body: () throws -> R) rethrows -> R {
        let attention = encoder.layer.map(\.attention.selfAttention)
        if attention.contains(where: { $0.stackedQKV != nil }) { return try body() }
        let separate = prompts.softPrompt != nil || prompts.prefixes != nil
            || attention.contains { $0.query_lora != nil || $0.value_lora != nil }
        let qkv = Set(attention.flatMap { [$0.query, $0.key, $0.value].map(ObjectIdentifier.init) })
        let all = projections.filter { separate || !qkv.contains(ObjectIdentifier($0)) }
        let saved = all.map(\.packed.forward)
        for a in attention {
            let (w, b) = a.stackQKV()
            a.stackedQKV = (w, b, PackedWeight(w))
        }
        for p in all { p.packed.forward = PackedWeight(p.weight) }
        defer {
            for a in attention { a.stackedQKV = nil }
            for (p, was) in zip(all, saved) { p.packed.forward = was }
        }
        return try body()
    }

    /// The encoder's projections (Q, K, V, attention output, intermediate, output of every layer).
    public var projections: [Linear] {
        encoder.layer.flatMap { l -> [Linear] in
            let sa = l.attention.selfAttention
            return [sa.query, sa.key, sa.value, l.attention.output.dense, l.intermediate.dense, l.output.dense]
        }
    }

    /// Packs every frozen projection's weight for OpenBLAS's kernel, for the forward product and for the
    /// input gradient (prompt, prefix and LoRA training run every step through the frozen weights), and drops
    /// the packs of trainable ones. Call after freezing or unfreezing.
    public func packFrozenWeights() {
        for p in projections {
            p.packed = p.weight.requiresGrad ? (nil, nil) : (PackedWeight(p.weight), PackedWeight(p.weight, transposed: true))
        }
    }

    /// Forward pass. Shapes: batch [B, T] -> hidden [B, T', C]; `poolMask` [B, T'] (1 = real token, or
    /// virtual token when `prompts.poolVirtualTokens`) is returned for pooling. With a soft prompt whose virtual
    /// tokens are not pooled, hidden is [B, T, C] (the text's rows: the last layer computes no others) and
    /// `poolMask` is the batch's mask. Dropout is active when the
    /// model is in training mode.
    public func callAsFunction(_ batch: TokenBatch, prompts: PromptInputs = .init(),
                               rng: inout SeededRNG) -> (hidden: Tensor, poolMask: Tensor) {
        let b = batch.batch, t = batch.length, p = prompts.promptLength, pk = prompts.prefixLength
        var x = embeddings(ids: batch.ids, batch: b, length: t, prompt: prompts.softPrompt, rng: &rng)
        let total = t + p
        // Token mask over the T' tokens (virtual tokens are tokens).
        var tokens = [Float](repeating: 0, count: b * total)
        for bi in 0..<b {
            tokens[bi * total] = batch.mask[bi * t]
            for j in 0..<p { tokens[bi * total + 1 + j] = 1 }
            for ti in 1..<max(t, 1) { tokens[bi * total + p + ti] = batch.mask[bi * t + ti] }
        }
        // Additive attention mask over the S = P_k + T' keys: 0 for prefix and tokens, finfo.min for padding.
        let s = pk + total
        var additive = [Float](repeating: 0, count: b * s)
        for bi in 0..<b { for j in 0..<total where tokens[bi * total + j] == 0 { additive[bi * s + pk + j] = -Float.greatestFiniteMagnitude } }
        let mask = Tensor(additive, shape: [b, s])
        // When the virtual tokens are not pooled, the last layer computes only the text rows: there the virtual
        // tokens serve as keys and values alone (their own outputs would be thrown away).
        let textOnlyLast = p > 0 && !prompts.poolVirtualTokens && t >= 2
        for (i, layer) in encoder.layer.enumerated() {
            if textOnlyLast && i == encoder.layer.count - 1 {
                let text = concat([narrow(x, axis: 1, start: 0, length: 1), narrow(x, axis: 1, start: 1 + p, length: t - 1)], axis: 1)
                x = layer(x, queries: text, mask: mask, prefix: prompts.prefixes?[i], rng: &rng)
            } else {
                x = layer(x, mask: mask, prefix: prompts.prefixes?[i], rng: &rng)
            }
        }
        if textOnlyLast { return (x, Tensor(batch.mask, shape: [b, t])) }
        var pool = tokens
        if p > 0 && !prompts.poolVirtualTokens { for bi in 0..<b { for j in 0..<p { pool[bi * total + 1 + j] = 0 } } }
        return (x, Tensor(pool, shape: [b, total]))
    }
}
