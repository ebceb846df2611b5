// JointTrainingTests: encoder + head trained together — the cached item tower, its gradient, a real run.
import Foundation
import Testing
import RecAlignNN
import RecAlignModels
import RecAlignData
import RecAlignHeads
import RecAlignTensor

@Suite(.serialized) struct JointTrainingTests {
    /// Item texts of the ml-tiny fixture corpus.
    func itemTexts() throws -> [String] {
        let ds = try CorpusLoader.load(path: Tiny.corpusDir)
        return ItemTextTemplate.default(for: ds).itemTexts(ds)
    }

    /// Moves every trainable value of `encoder` by seeded noise, so a tuned encoder differs from its start.
    func perturb(_ trainable: [(name: String, tensor: Tensor)], seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        for p in trainable { for i in 0..<p.tensor.count { p.tensor.data[i] += 0.05 * rng.nextGaussian() } }
    }

    @Test func refreshedCacheEqualsAFreshEncode() throws {
        let texts = try itemTexts()
        let cases: [(method: any TuningMethod, cachedLayers: Int)] = [(TopLayersTuning(layers: 1), 1), (LoRATuning(rank: 4, alpha: 8), 0),
                                                                     (LoRATuning(rank: 4, alpha: 8, lastLayers: 1), 1)]
        for (method, cachedLayers) in cases {
            let encoder = try SentenceEncoder(path: try Tiny.model())
            var rng = SeededRNG(seed: 3)
            let tuned = try TunedEncoder(method, encoder: encoder, rng: &rng)
            let tower = ItemTextTower(encoder: encoder, texts: texts, batchSize: 7)
            #expect(tower.firstTrained == cachedLayers, "\(method): \(tower.firstTrained) layers cached")
            // The cache was built before the tuned layers moved: a refresh must still match a full pass.
            perturb(tuned.trainable, seed: 9)
            let refreshed = tower.refresh(batchSize: 5)
            let fresh = encoder.encode(texts, batchSize: 16).values
            let err = zip(refreshed, fresh).map { abs($0 - $1) }.max() ?? 1
            #expect(err < 1e-5, "\(method): refreshed item embeddings differ from a fresh encode by \(err)")
            // The rows a step re-encodes with gradients are the same vectors (no dropout in eval mode).
            encoder.model.train(false)
            var r = SeededRNG(seed: 0)
            let rows: [Int32] = [4, 0, 11]
            let e = tower.encode(rows: rows, rng: &r)
            for (k, row) in rows.enumerated() {
                for j in 0..<tower.dim { #expect(abs(e.data[k * tower.dim + j] - fresh[Int(row) * tower.dim + j]) < 1e-5) }
            }
            Autograd.clearTape()
        }
    }

    /// The head's full-softmax loss over item states in which `rows` are re-encoded by the tower.
    func jointLoss(head: RecHead, tower: ItemTextTower, cached: Tensor, rows: [Int32], histories: [ArraySlice<Int32>],
                   targets: [Int]) -> Tensor {
        var rng = SeededRNG(seed: 1)
        let x = replacingRows(cached, rows: rows, with: tower.encode(rows: rows, rng: &rng))
        let states = head.itemStates(x, rng: &rng)
        let users = head.userVectors(states: states, batch: HistoryBatch(histories, maxHistory: head.config.maxHistory), rng: &rng)
        return crossEntropy(scale(matmul(users, head.itemVectors(states: states), transB: true), 20), targets: targets)
    }

    @Test func jointGradientIntoTheEncoderMatchesFiniteDifferences() throws {
        let texts = try itemTexts()
        let n = texts.count
        let encoder = try SentenceEncoder(path: try Tiny.model())
        var rng = SeededRNG(seed: 5)
        let tuned = try TunedEncoder(TopLayersTuning(layers: 1), encoder: encoder, rng: &rng)
        let tower = ItemTextTower(encoder: encoder, texts: texts)
        encoder.model.train(false)   // no dropout: the loss is a function of the weights alone
        let cached = Tensor(tower.refresh(), shape: [n, tower.dim])
        let config = HeadConfig(adaptor: .moe, tower: .seq, inputDim: tower.dim, adaptorDim: 16, experts: 2, hiddenDim: 16,
                                layers: 1, heads: 2, maxHistory: 4, dropout: 0, itemInput: .textAndID, itemCount: n)
        let head = RecHead(config: config, seed: 2)
        head.train(false)
        let rows: [Int32] = [2, 5, 7]
        let histories: [ArraySlice<Int32>] = [[0, 1, 3][...], [4, 6][...], [8, 9, 10, 1][...]]
        let targets = [2, 5, 7]
        Autograd.backward(jointLoss(head: head, tower: tower, cached: cached, rows: rows, histories: histories, targets: targets))
        // Central differences (Double sums of Float32 losses) on the coordinates with the largest gradients of
        // each trained tensor; a wrong backward through the splice or the layers is off by far more than 2%.
        var num: [Double] = [], ana: [Double] = []
        for p in tuned.trainable {
            let g = p.tensor.grad!.array
            let top = g.indices.sorted { abs(g[$0]) > abs(g[$1]) }.prefix(3)
            for i in top {
                let v = p.tensor.data[i], h: Float = 1e-2
                func loss(at value: Float) -> Double {
                    p.tensor.data[i] = value
                    defer { p.tensor.data[i] = v }
                    return Double(Autograd.noGrad {
                        jointLoss(head: head, tower: tower, cached: cached, rows: rows, histories: histories, targets: targets).array[0]
                    })
                }
                num.append((loss(at: v + h) - loss(at: v - h)) / Double(2 * h))
                ana.append(Double(g[i]))
            }
        }
        let diff = zip(num, ana).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let norm = ana.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(norm > 1e-6, "no gradient reached the encoder")
        #expect(diff / norm < 2e-2, "encoder gradient vs finite differences: relative error \(diff / norm)")
        // Items outside `rows` come from the cache: their embeddings carry no gradient into the encoder.
        #expect(!cached.requiresGrad)
    }

    @Test func jointRunTrainsTheEncoderAndKeepsItsCacheFresh() throws {
        let encoder = try SentenceEncoder(path: try Tiny.model())
        let corpus = try Tiny.genreCorpus(encoder)
        let texts = corpus.builder.itemTexts
        var rng = SeededRNG(seed: 5)
        let tuned = try TunedEncoder(TopLayersTuning(layers: 1), encoder: encoder, rng: &rng)
        let before = tuned.trainable.map(\.tensor.array)
        let tower = ItemTextTower(encoder: encoder, texts: texts)
        let start = tower.refresh()
        let config = HeadConfig(adaptor: .moe, tower: .seq, inputDim: tower.dim, adaptorDim: 16, experts: 2, hiddenDim: 16,
                                layers: 1, heads: 2, maxHistory: 6, dropout: 0.1, itemInput: .textAndID,
                                itemCount: corpus.split.itemCount)
        let head = RecHead(config: config, seed: 2)
        var options = HeadTrainingOptions()
        options.epochs = 3; options.batchSize = 8; options.lr = 3e-3
        let trainer = try HeadTrainer(head: head, itemEmbeddings: start, split: corpus.split, setting: .warm, options: options)
        trainer.joint = JointEncoder(tower: tower, optimizer: tuned.optimizer(lr: 1e-3, weightDecay: 0.01), rateFactor: 1,
                                     reencode: 6, refreshEvery: 2)
        let result = try trainer.run()
        #expect(result.epochs.count == 3)
        let moved = zip(before, tuned.trainable.map(\.tensor.array)).contains { a, b in zip(a, b).contains { $0 != $1 } }
        #expect(moved, "joint training left the encoder's layer untouched")
        // After the run the trainer's table is the best encoder's embeddings, as a fresh encode gives them.
        let fresh = encoder.encode(texts, batchSize: 16).values
        let err = zip(trainer.embeddings, fresh).map { abs($0 - $1) }.max() ?? 1
        #expect(err < 1e-5, "the trainer's item table differs from a fresh encode by \(err)")
    }

    @Test func loraOnTheLastLayersRoundTripsAsPeftLayersToTransform() throws {
        let texts = try itemTexts()
        let path = try Tiny.model()
        let encoder = try SentenceEncoder(path: path)
        var rng = SeededRNG(seed: 3)
        let tuned = try TunedEncoder(LoRATuning(rank: 4, alpha: 8, lastLayers: 1), encoder: encoder, rng: &rng)
        #expect(tuned.trainable.allSatisfy { $0.name.hasPrefix("encoder.layer.1.") }, "\(tuned.trainable.map(\.name))")
        perturb(tuned.trainable, seed: 4)
        let dir = Tiny.tempDir("lora-last")
        try tuned.save(to: dir)
        let config = try String(contentsOfFile: dir + "/adapter_config.json", encoding: .utf8)
        #expect(config.contains("\"layers_to_transform\""))
        let loaded = try SentenceEncoder(path: path)
        try loadAdapter(dir, into: loaded)
        let a = encoder.encode(texts).values, b = loaded.encode(texts).values
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 })
        // A layer index the model does not have is refused, naming the field.
        let bad = config.replacingOccurrences(of: "\"layers_to_transform\" : [\n    1\n  ]", with: "\"layers_to_transform\" : [7]")
        #expect(bad != config, "the saved config's layout changed: \(config)")
        try bad.write(toFile: dir + "/adapter_config.json", atomically: true, encoding: .utf8)
        #expect { try loadAdapter(dir, into: try SentenceEncoder(path: path)) } throws: { "\($0)".contains("layers_to_transform") }
    }
}
