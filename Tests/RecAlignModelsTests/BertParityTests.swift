// BertParityTests: hidden states, sentence embeddings and gradients against the PyTorch reference fixtures.
import Foundation
import Testing
import RecAlignFormats
import RecAlignNN
import RecAlignModels
import RecAlignTensor

/// The reference model, loaded once per test process.
enum ReferenceModel {
    nonisolated(unsafe) static var cached: (BertModel, SentenceTransformerFolder)?
    static func load() throws -> (BertModel, SentenceTransformerFolder) {
        if let c = cached { return c }
        let folder = try SentenceTransformerFolder.load(Fixtures.modelDir.path)
        let model = BertModel(config: folder.config)
        try BertWeights.load(model, from: SafeTensorsFile(path: folder.weightsPath!))
        cached = (model, folder)
        return (model, folder)
    }
}

private struct GoldenTokens: Decodable {
    struct Entry: Decodable { let input_ids: [Int32] }
    let max_seq_length: Int
    let texts: [Entry]
}

private func goldenTokens() throws -> GoldenTokens {
    let data = try Data(contentsOf: Fixtures.golden.appendingPathComponent("tokens.json"))
    return try JSONDecoder().decode(GoldenTokens.self, from: data)
}

@Suite("BERT parity with transformers / sentence-transformers", .serialized, .enabled(if: Fixtures.hasModel))
struct BertParityTests {
    func goldenBatch() throws -> TokenBatch {
        let ids = try Fixtures.npy("batch_input_ids.npy"), mask = try Fixtures.npy("batch_attention_mask.npy")
        return TokenBatch(ids: ids.int64s!.map { Int32($0) }, mask: mask.int64s!.map { Float($0) },
                          batch: ids.shape[0], length: ids.shape[1])
    }

    @Test func paddedBatchHiddenStates() throws {
        let (model, _) = try ReferenceModel.load()
        let batch = try goldenBatch()
        var rng = SeededRNG(seed: 0)
        let (hidden, _) = Autograd.noGrad { model(batch, rng: &rng) }
        let ref = try Fixtures.npy("batch_hidden.npy").floats!
        #expect(hidden.shape == [4, 12, 384])
        var maxDiff: Float = 0
        for row in 0..<48 where batch.mask[row] != 0 {
            for c in 0..<384 {
                let d: Float = abs(hidden[row * 384 + c] - ref[row * 384 + c])
                maxDiff = max(maxDiff, d)
            }
        }
        #expect(maxDiff <= 1e-4, "max |hidden - reference| over real tokens = \(maxDiff)")
    }

    @Test func sentenceEmbeddingsFromReferenceTokenIds() throws {
        let (model, folder) = try ReferenceModel.load()
        let pool = SentencePooling(config: folder.pooling, normalize: folder.normalize)
        let tokens = try goldenTokens()
        let ref = try Fixtures.npy("embeddings.npy").floats!
        var worstDiff: Float = 0, worstCos: Float = 1
        for (i, entry) in tokens.texts.enumerated() {
            let n = entry.input_ids.count
            let batch = TokenBatch(ids: entry.input_ids, mask: [Float](repeating: 1, count: n), batch: 1, length: n)
            var rng = SeededRNG(seed: 0)
            let emb = Autograd.noGrad { () -> Tensor in
                let (h, m) = model(batch, rng: &rng)
                return pool(h, mask: m)
            }
            var dot: Float = 0, na: Float = 0, nb: Float = 0
            for c in 0..<384 {
                let a: Float = emb[c], b: Float = ref[i * 384 + c]
                let d: Float = abs(a - b)
                worstDiff = max(worstDiff, d); dot += a * b; na += a * a; nb += b * b
            }
            worstCos = min(worstCos, dot / (na * nb).squareRoot())
        }
        #expect(worstDiff <= 1e-4, "max abs difference \(worstDiff)")
        #expect(worstCos >= 0.99999, "min cosine \(worstCos)")
    }

    @Test func encodeMatchesReferenceEmbeddings() throws {
        // The user path: our tokenizer, length-bucketed batches split over the cores, weights prepacked for
        // OpenBLAS's kernel (`withInferenceWeights`) - against sentence-transformers' embeddings of the same texts.
        let texts = try JSONDecoder().decode([String].self, from: Data(contentsOf: Fixtures.golden.appendingPathComponent("texts.json")))
        let ref = try Fixtures.npy("embeddings.npy").floats!
        let enc = try SentenceEncoder(path: Fixtures.modelDir.path)
        let saved = SentenceEncoder.dataParallelMinTokens
        defer { SentenceEncoder.dataParallelMinTokens = saved }
        SentenceEncoder.dataParallelMinTokens = 0
        let got = enc.encode(texts, batchSize: 8)
        #expect(got.values.count == ref.count)
        let worst = zip(got.values, ref).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4, "max |encode - sentence-transformers| = \(worst)")
    }

    @Test func sameEmbeddingAloneOrInPaddedBatch() throws {
        let (model, folder) = try ReferenceModel.load()
        let pool = SentencePooling(config: folder.pooling, normalize: folder.normalize)
        let tokens = try goldenTokens()
        let chosen = [0, 5, 22, 9].map { tokens.texts[$0].input_ids }
        let t = chosen.map(\.count).max()!
        var ids = [Int32](), mask = [Float]()
        for c in chosen {
            ids += c + [Int32](repeating: 0, count: t - c.count)
            mask += [Float](repeating: 1, count: c.count) + [Float](repeating: 0, count: t - c.count)
        }
        var rng = SeededRNG(seed: 0)
        let together = Autograd.noGrad { () -> Tensor in
            let (h, m) = model(TokenBatch(ids: ids, mask: mask, batch: chosen.count, length: t), rng: &rng)
            return pool(h, mask: m)
        }
        for (i, c) in chosen.enumerated() {
            let alone = Autograd.noGrad { () -> Tensor in
                let (h, m) = model(TokenBatch(ids: c, mask: [Float](repeating: 1, count: c.count), batch: 1, length: c.count), rng: &rng)
                return pool(h, mask: m)
            }
            let diff = (0..<384).map { abs(alone[$0] - together[i * 384 + $0]) }.max()!
            #expect(diff <= 1e-5, "text \(i): alone vs batched differ by \(diff)")
        }
    }

    @Test func dataParallelInferenceEqualsOneThread() throws {
        // Batches are split over the cores in inference; the result must not depend on it.
        let enc = try SentenceEncoder(path: Fixtures.modelDir.path)
        let texts = (0..<40).map { "movie \($0) (19\(50 + $0)) " + String(repeating: "drama comedy ", count: $0 % 7) }
        let saved = SentenceEncoder.dataParallelMinTokens
        defer { SentenceEncoder.dataParallelMinTokens = saved }
        SentenceEncoder.dataParallelMinTokens = .max
        let serial = enc.encode(texts, batchSize: 16)
        SentenceEncoder.dataParallelMinTokens = 0
        let split = enc.encode(texts, batchSize: 16)
        let diff = zip(serial.values, split.values).map { abs($0 - $1) }.max()!
        #expect(diff <= 1e-6, "data-parallel vs serial inference differ by \(diff)")
    }

    @Test func gradientsOfNamedWeights() throws {
        let folder = try SentenceTransformerFolder.load(Fixtures.modelDir.path)
        let model = BertModel(config: folder.config)       // a fresh copy: gradients on every weight
        try BertWeights.load(model, from: SafeTensorsFile(path: folder.weightsPath!))
        model.unfreeze()
        let pool = SentencePooling(config: folder.pooling, normalize: true)
        let batch = try goldenBatch()
        var rng = SeededRNG(seed: 0)
        let (h, m) = model(batch, rng: &rng)
        let emb = pool(h, mask: m)
        let w = try Fixtures.npy("grads/w.npy").floats!
        let loss = sum(mul(emb, Tensor(w, shape: [384])))
        #expect(abs(loss[0] - -0.5794612) < 1e-5, "L = \(loss[0])")
        Autograd.backward(loss)
        let params = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor) })
        func relErr(_ g: [Float], _ r: [Float]) -> Float {
            var num: Float = 0, den: Float = 0
            for i in r.indices { num += (g[i] - r[i]) * (g[i] - r[i]); den += r[i] * r[i] }
            return (num / den).squareRoot()
        }
        for name in ["embeddings.LayerNorm.weight", "encoder.layer.0.attention.self.query.weight",
                     "encoder.layer.3.intermediate.dense.bias", "encoder.layer.5.output.LayerNorm.bias"] {
            let g = params[name]!.grad!.array, r = try Fixtures.npy("grads/\(name).npy").floats!
            #expect(relErr(g, r) <= 1e-3, "\(name): relative error \(relErr(g, r))")
        }
        let g5 = params["encoder.layer.5.output.dense.weight"]!.grad!.array
        let r5 = try Fixtures.npy("grads/encoder.layer.5.output.dense.weight.rows0-63.npy").floats!
        #expect(relErr(Array(g5[0..<r5.count]), r5) <= 1e-3, "layer 5 output dense rows 0-63")
        let ids = try Fixtures.npy("grads/embeddings.word_embeddings.weight.ids.npy").int64s!
        let rows = try Fixtures.npy("grads/embeddings.word_embeddings.weight.rows.npy").floats!
        let gw = params["embeddings.word_embeddings.weight"]!.grad!.array
        let mine = ids.flatMap { id in gw[(Int(id) * 384)..<(Int(id) * 384 + 384)] }
        #expect(relErr(mine, rows) <= 1e-3, "word embedding rows: \(relErr(mine, rows))")
    }
}
