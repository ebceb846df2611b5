// SentenceEncoder: text -> embedding matrix, the sentence-transformers pipeline (tokenize, BERT, pool, normalise).
import Foundation
import RecAlignNN
import RecAlignFormats
import RecAlignTokenizer
import RecAlignTensor

/// Embeddings of a list of texts, row i for text i.
public struct EmbeddingMatrix: Sendable {
    public var values: [Float]
    public var rows: Int
    public var dim: Int
    /// How many texts were longer than the max length and cut (never silent).
    public var truncated: Int
    public init(values: [Float], rows: Int, dim: Int, truncated: Int) {
        self.values = values; self.rows = rows; self.dim = dim; self.truncated = truncated
    }
    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * dim)..<((i + 1) * dim)] }
}

/// A loaded sentence-transformers model: tokenizer + BERT + pooling (+ normalisation).
public final class SentenceEncoder: @unchecked Sendable {
    public let folder: SentenceTransformerFolder
    public let tokenizer: BertTokenizer
    public let model: BertModel
    public var pooling: SentencePooling
    /// Max tokens per text including [CLS] / [SEP] (sentence_bert_config.json unless overridden).
    public var maxLength: Int
    /// The input adapter of a prompt method (soft prompt, prefixes); nil for a plain encoder. Weight adapters
    /// (LoRA, IA3) live in the model's modules instead.
    public var inputAdapter: (any InputAdapter)?
    /// Number format of the projections when `encode` prepares its own inference weights (fp32: parity).
    public var precision: Precision = .fp32

    /// Loads an HF / sentence-transformers folder. `maxLength` overrides `max_seq_length`; `dropout` the config's
    /// hidden and attention dropout (as `from_pretrained(..., hidden_dropout_prob=p)`; saved with the model).
    public init(path: String, maxLength: Int? = nil, dropout: Double? = nil) throws {
        var folder = try SentenceTransformerFolder.load(path)
        if let dropout {
            folder.config.hiddenDropoutProb = dropout
            folder.config.attentionProbsDropoutProb = dropout
        }
        self.folder = folder
        tokenizer = try BertTokenizer(folder: URL(fileURLWithPath: folder.transformerPath))
        let config = folder.config
        // Token ids become rows of the embedding table: checked once here, never per token.
        guard Int(tokenizer.maxTokenID) < config.vocabSize else {
            throw FormatError(.badValue, file: tokenizer.source, field: "ids",
                              "the tokenizer emits token id \(tokenizer.maxTokenID) but the model has \(config.vocabSize) "
                              + "embedding rows (vocab_size in \(folder.transformerPath)/config.json)")
        }
        guard let weights = folder.weightsPath else {
            throw FormatError(.cannotRead, file: folder.transformerPath, field: "model.safetensors",
                              "no model.safetensors in the model folder")
        }
        let file = try SafeTensorsFile(path: weights)
        // Sizes from config.json are allocated before the weights are checked by name: bound them by the file.
        guard let needed = config.parameterCount, needed <= file.elementCount else {
            throw FormatError(.badValue, file: folder.transformerPath + "/config.json", field: "sizes",
                              "the config describes \(config.parameterCount.map(String.init) ?? "more than Int.max") parameters "
                              + "but \(weights) holds \(file.elementCount) values")
        }
        model = Tensor.withoutRandomInit { BertModel(config: config) }   // every weight is loaded next
        try BertWeights.load(model, from: file)
        model.freeze()
        pooling = SentencePooling(config: folder.pooling, normalize: folder.normalize)
        self.maxLength = min(maxLength ?? folder.maxSeqLength, folder.config.maxPositionEmbeddings)
    }

    /// Output width.
    public var dimension: Int { folder.pooling.outputDimension }

    /// Token ids of each text (with [CLS] / [SEP], cut to `maxLength`). A soft prompt's virtual tokens come on
    /// top of the text's budget, as PEFT prepends them to an already tokenized text: a user text built to fit
    /// `maxLength` keeps its most recent items (PROTOCOL section 5). Only when text + prompt would pass the
    /// model's position table is the text cut further.
    public func tokenize(_ texts: [String]) -> (ids: [[Int32]], truncated: Int) {
        let limit = min(maxLength, model.config.maxPositionEmbeddings - (inputAdapter?.insertedTokens ?? 0))
        var truncated = 0
        let ids = texts.map { t -> [Int32] in
            let e = tokenizer.encode(t, maxLength: limit)
            if e.truncated { truncated += 1 }
            return e.ids
        }
        return (ids, truncated)
    }

    /// Pads a group of token-id lists into one batch (pad id 0 for BERT, mask 0 on padding).
    public static func pad(_ group: [[Int32]], padID: Int32) -> TokenBatch {
        let t = group.map(\.count).max() ?? 0
        var ids = [Int32](repeating: padID, count: group.count * t), mask = [Float](repeating: 0, count: group.count * t)
        for (i, g) in group.enumerated() {
            for (j, id) in g.enumerated() { ids[i * t + j] = id; mask[i * t + j] = 1 }
        }
        return TokenBatch(ids: ids, mask: mask, batch: group.count, length: t)
    }

    /// Embeddings of one padded batch: [B, dim]. Without `weights`, with autograd and, in training mode,
    /// dropout (training). With `weights` (inference), a batch of at least `dataParallelMinTokens` tokens is
    /// split into one slice of rows per core, each encoded with single-threaded kernels (`BLAS.dataParallel`).
    public func embed(_ batch: TokenBatch, weights: InferenceWeights? = nil, rng: inout SeededRNG) -> Tensor {
        if let weights, Parallel.workers > 1 && batch.batch >= Parallel.workers
            && batch.batch * batch.length >= SentenceEncoder.dataParallelMinTokens {
            return embedDataParallel(batch, weights: weights)
        }
        return pooled(batch, weights: weights, rng: &rng)
    }

    /// Encoder forward and pooling of one batch: [B, dim].
    func pooled(_ batch: TokenBatch, weights: InferenceWeights?, rng: inout SeededRNG) -> Tensor {
        let (h, m) = model(batch, adapter: inputAdapter, weights: weights, rng: &rng)
        return pooling(h, mask: m)
    }

    /// Batches with fewer tokens than this are encoded with the kernels' own threading.
    public nonisolated(unsafe) static var dataParallelMinTokens = 256

    /// Inference on row slices of `batch` in parallel; rows of the result in the batch's order: [B, dim].
    func embedDataParallel(_ batch: TokenBatch, weights: InferenceWeights) -> Tensor {
        let dim = dimension
        let out = Tensor(zeros: [batch.batch, dim])
        let od = out.data
        BLAS.dataParallel { w, workers in
            let rows = Parallel.share(batch.batch, worker: w, of: workers)
            guard !rows.isEmpty else { return }
            var rng = SeededRNG(seed: 0)
            let e = Autograd.noGrad { pooled(batch.rows(rows), weights: weights, rng: &rng) }
            (od + rows.lowerBound * dim).update(from: e.data, count: rows.count * dim)
        }
        return out
    }

    /// Encodes `texts` in inference mode with length bucketing: texts are sorted by token count and each
    /// batch is padded to its own longest text. Texts with identical token ids are encoded once, so they get
    /// bit-identical vectors whatever the batching (ml-100k lists some films twice: a target and its twin then
    /// tie exactly, and the protocol's tie rule, not float noise from padding, orders them).
    /// `progress(done, total)` is called after each batch (counting every text, duplicates included).
    /// `weights`: inference weights prepared earlier (`InferenceWeights(model)`), to share them between calls
    /// while the model does not change; prepared here at `precision` when nil.
    public func encode(_ texts: [String], batchSize: Int = 32, weights: InferenceWeights? = nil,
                       progress: ((Int, Int) -> Void)? = nil) -> EmbeddingMatrix {
        let (allIds, truncated) = tokenize(texts)
        var firstOf: [[Int32]: Int] = [:], ids: [[Int32]] = [], copies: [[Int]] = []
        for (i, t) in allIds.enumerated() {
            if let u = firstOf[t] { copies[u].append(i); continue }
            firstOf[t] = ids.count; ids.append(t); copies.append([i])
        }
        let order = ids.indices.sorted { ids[$0].count > ids[$1].count || (ids[$0].count == ids[$1].count && $0 < $1) }
        let dim = dimension
        var out = [Float](repeating: 0, count: texts.count * dim)
        var rng = SeededRNG(seed: 0)
        let wasTraining = model.training
        model.train(false)
        defer { model.train(wasTraining) }
        var done = 0
        let weights = weights ?? InferenceWeights(model, precision: precision)
        do {
            for start in stride(from: 0, to: order.count, by: max(1, batchSize)) {
                let idx = Array(order[start..<min(order.count, start + batchSize)])
                let batch = SentenceEncoder.pad(idx.map { ids[$0] }, padID: tokenizer.padID)
                let emb = Autograd.noGrad { embed(batch, weights: weights, rng: &rng) }
                for (k, u) in idx.enumerated() {
                    for i in copies[u] {
                        out.withUnsafeMutableBufferPointer { (($0.baseAddress! + i * dim)).update(from: emb.data + k * dim, count: dim) }
                    }
                    done += copies[u].count
                }
                progress?(done, texts.count)
            }
        }
        return EmbeddingMatrix(values: out, rows: texts.count, dim: dim, truncated: truncated)
    }
}
