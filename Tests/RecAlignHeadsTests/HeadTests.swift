// HeadTests: adaptor / sequential heads — gradients, identity start, padding, a learnable toy task, save/load.
import Foundation
import Testing
import RecAlignNN
import RecAlignData
import RecAlignMetrics
import RecAlignHeads
import RecAlignTensor
import RecAlignFormats

/// Random unit vectors [n, d] (row-major) from a seed.
func unitVectors(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
    var rng = SeededRNG(seed: seed)
    var v = [Float](repeating: 0, count: n * d)
    for i in 0..<n {
        var s: Float = 0
        for j in 0..<d { v[i * d + j] = rng.nextGaussian(); s += v[i * d + j] * v[i * d + j] }
        for j in 0..<d { v[i * d + j] /= s.squareRoot() }
    }
    return v
}

/// A split over `n` items where every user walks a cycle 0 -> 1 -> ... -> n-1 -> 0 from a random start:
/// train = the first `len` steps, valid = the next item, test = the one after.
func cycleSplit(items n: Int, users: Int, seed: UInt64) -> Split {
    var rng = SplitMix64(seed: seed)
    var perUser: [[(item: Int32, timestamp: Double)]] = [], valid: [HeldOut] = [], test: [HeldOut] = []
    for _ in 0..<users {
        let start = Int(rng.next() % UInt64(n)), len = 4 + Int(rng.next() % 6)
        perUser.append((0..<len).map { (Int32((start + $0) % n), Double($0)) })
        valid.append(HeldOut(itemRow: Int32((start + len) % n), timestamp: Double(len)))
        test.append(HeldOut(itemRow: Int32((start + len + 1) % n), timestamp: Double(len + 1)))
    }
    let train = InteractionSequences(perUser: perUser)
    let cold = ColdSplit(coldItems: [], itemCount: n, warmTrain: train, valid: valid, test: test)
    return Split(userIds: (0..<users).map(String.init), itemIds: (0..<n).map(String.init), train: train,
                 valid: valid, test: test, cold: cold)
}

@Test func gradientsReachOnlyHeadParameters() {
    let n = 12, d = 16
    let x = Tensor(unitVectors(n, d, seed: 1), shape: [n, d])
    var bagged = HeadConfig(adaptor: .moe, tower: .seq, inputDim: d, adaptorDim: 8, experts: 3, hiddenDim: 8, layers: 1, heads: 2, maxHistory: 6)
    bagged.bag = true
    for config in [HeadConfig(adaptor: .moe, tower: .seq, inputDim: d, adaptorDim: 8, experts: 3, hiddenDim: 8, layers: 1, heads: 2, maxHistory: 6),
                   bagged, HeadConfig(adaptor: .linear, tower: .mean, inputDim: d, maxHistory: 3)] {
        let head = RecHead(config: config, seed: 3)
        head.train(true)
        var rng = SeededRNG(seed: 5)
        let states = head.itemStates(x, rng: &rng)
        let users = head.userVectors(states: states, batch: HistoryBatch([[1, 2, 3][...], [4, 5][...]], maxHistory: 6), rng: &rng)
        let logits = scale(matmul(users, head.itemVectors(states: states), transB: true), 20)
        Autograd.backward(crossEntropy(logits, targets: [4, 6]))
        #expect(!x.requiresGrad && !x.hasGrad)
        for p in head.trainableParameters() {
            let g = p.tensor.grad?.array ?? []
            #expect(g.contains { $0 != 0 }, "no gradient reached \(p.name)")
        }
        #expect(head.trainableParameters().count == head.namedParameters().count)
    }
}

@Test func identityLinearAdaptorGivesFrozenScores() throws {
    let n = 10, d = 8
    let emb = unitVectors(n, d, seed: 7)
    let head = RecHead(config: HeadConfig(adaptor: .linear, tower: .mean, inputDim: d, maxHistory: 5, dropout: 0))
    let histories: [[Int32]] = [[0, 1, 2, 3, 4, 5, 6], [9], [3, 8]]
    let v = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: histories)
    for i in 0..<(n * d) { #expect(abs(v.items[i] - emb[i]) < 1e-6) }
    for (u, h) in histories.enumerated() {
        // Frozen reference: user = normalize(mean of the last 5 item embeddings).
        var mean = [Float](repeating: 0, count: d)
        for r in h.suffix(5) { for j in 0..<d { mean[j] += emb[Int(r) * d + j] } }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for j in 0..<d { #expect(abs(v.users[u * d + j] - mean[j] / norm) < 1e-5) }
    }
}

@Test func sequentialTowerIgnoresPadding() throws {
    let n = 60, d = 16
    let emb = unitVectors(n, d, seed: 11)
    let head = RecHead(config: HeadConfig(adaptor: .moe, tower: .seq, inputDim: d, experts: 2, hiddenDim: 8, layers: 2, heads: 2, maxHistory: 50), seed: 2)
    let short: [Int32] = [5, 17, 3]
    let long = (0..<45).map { Int32($0) }
    let alone = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: [short])
    let padded = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: [long, short])
    let dim = alone.dim
    for j in 0..<dim { #expect(abs(alone.users[j] - padded.users[dim + j]) < 1e-5) }
    // The history matters: a different history gives a different vector.
    let other = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: [[5, 17, 4]])
    #expect((0..<dim).contains { abs(other.users[$0] - alone.users[$0]) > 1e-3 })
}

/// Left-padded [[1, 2, 3], [4, 5]]: user 0's slots see 1, 2, 3 real items; user 1's first slot is padding.
@Test func prefixMeansAverageTheVisibleHistory() {
    let m = HistoryBatch([[1, 2, 3][...], [4, 5][...]], maxHistory: 6).prefixMeans()
    let third: Float = 1 / 3
    #expect(m == [1, 0, 0, 0.5, 0.5, 0, third, third, third,
                  0, 0, 0, 0, 1, 0, 0, 0.5, 0.5])
}

/// The bag path adds gate ⊙ √H · (unit mean of the visible item vectors) to each state and changes nothing else:
/// a tower with it and one without, from the same seed, differ by exactly that at every slot, causal or not.
@Test func bagPathAddsTheGatedPrefixMean() {
    let n = 9, h = 8
    let items = Tensor(unitVectors(n, h, seed: 3), shape: [n, h])
    var r1 = SeededRNG(seed: 7), r2 = SeededRNG(seed: 7)
    let plain = SequentialTower(dim: h, layers: 1, heads: 2, ffn: 16, maxHistory: 6, dropout: 0, rng: &r1)
    let bagged = SequentialTower(dim: h, layers: 1, heads: 2, ffn: 16, maxHistory: 6, dropout: 0, bag: true, rng: &r2)
    let gate = bagged.bagGate!
    for j in 0..<h { gate.data[j] = Float(j + 1) / 4 }
    let batch = HistoryBatch([[1, 2, 3][...], [4, 5][...]], maxHistory: 6)
    let means = batch.prefixMeans(), t = batch.length
    for causal in [true, false] {
        var rng = SeededRNG(seed: 1)
        let a = Autograd.noGrad { plain.states(items: items, batch: batch, causal: causal, rng: &rng).array }
        let b = Autograd.noGrad { bagged.states(items: items, batch: batch, causal: causal, rng: &rng).array }
        for bi in 0..<2 { for i in 0..<t {
            var mean = [Float](repeating: 0, count: h)
            for j in 0..<h { for k in 0..<t { mean[j] += means[(bi * t + i) * t + k] * items.data[Int(batch.ids[bi * t + k]) * h + j] } }
            let norm = max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for j in 0..<h {
                let at = (bi * t + i) * h + j
                #expect(abs(b[at] - (a[at] + gate.data[j] * Float(h).squareRoot() * mean[j] / norm)) < 1e-4)
            }
        } }
    }
}

@Test func windowsCoverEachTargetOnce() {
    let seqs = InteractionSequences(perUser: [(0..<8).map { (Int32($0), Double($0)) }, [(3, 0)], [(1, 0), (2, 1)]])
    let w = HeadExamples.windows(seqs, length: 3)
    #expect(w == [SequenceWindow(user: 0, start: 4, end: 7), SequenceWindow(user: 0, start: 1, end: 4),
                  SequenceWindow(user: 0, start: 0, end: 1), SequenceWindow(user: 2, start: 0, end: 1)])
}

@Test func seqTowerLearnsNextItemInACycle() throws {
    let n = 20, d = 16
    let emb = unitVectors(n, d, seed: 21)
    let split = cycleSplit(items: n, users: 200, seed: 4)
    let head = RecHead(config: HeadConfig(adaptor: .linear, tower: .seq, inputDim: d, hiddenDim: 16, layers: 1,
                                          heads: 2, maxHistory: 10, dropout: 0), seed: 1)
    var options = HeadTrainingOptions()
    options.epochs = 30; options.lr = 5e-3; options.batchSize = 32; options.warmupFraction = 0.05
    let before = try HeadEvaluation.evaluate(head, itemEmbeddings: emb, split: split, stage: .test, setting: .warm)
    let result = try HeadTrainer(head: head, itemEmbeddings: emb, split: split, setting: .warm, options: options).run()
    let users = split.evaluatedUsers(.test, .warm)
    let v = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: users.map { split.history(user: Int($0), stage: .test, setting: .warm) })
    let ranks = HeadEvaluation.ranks(itemVectors: v.items, userVectors: v.users, dim: v.dim, users: users, split: split, stage: .test)
    let recall1 = Double(ranks.filter { $0 == 1 }.count) / Double(ranks.count)
    #expect(recall1 > 0.9, "Recall@1 \(recall1) (before training: Recall@10 \(before.recall10), best valid \(result.bestValid.recall10))")
}

/// A head with every parameter perturbed (so a round trip is not checked on the initial values only), saved
/// into a fresh temp folder (the caller removes it).
func savedPerturbedHead(_ config: HeadConfig, seed: UInt64) throws -> (head: RecHead, dir: String) {
    let head = RecHead(config: config, seed: seed)
    var rng = SeededRNG(seed: seed + 1)
    for p in head.namedParameters() { for i in 0..<p.tensor.count { p.tensor.data[i] += 0.05 * rng.nextGaussian() } }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("head-\(UUID().uuidString)").path
    try HeadFiles.save(head, to: dir)
    return (head, dir)
}

@Test func savedHeadReloadsToIdenticalScores() throws {
    let n = 30, d = 16
    let emb = unitVectors(n, d, seed: 31)
    var config = HeadConfig(adaptor: .moe, tower: .seq, inputDim: d, adaptorDim: 12, experts: 3, hiddenDim: 8,
                            layers: 2, heads: 2, maxHistory: 7)
    config.bag = true
    let (head, dir) = try savedPerturbedHead(config, seed: 9)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let loaded = try loadHead(dir)
    #expect(loaded.config == head.config)
    let hs: [[Int32]] = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [0], [29, 3]]
    let a = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: hs)
    let b = try loaded.vectors(itemEmbeddings: emb, itemCount: n, histories: hs)
    #expect(a.items == b.items && a.users == b.users)
}

/// A head saved before the tower ran on BertLayer (layer tensors named `query`, `output`, `norm1`, `up`, `down`,
/// `norm2`) loads to the same scores.
@Test func headWithTheEarlierTowerNamesLoads() throws {
    let n = 20, d = 16
    let emb = unitVectors(n, d, seed: 32)
    let (head, dir) = try savedPerturbedHead(HeadConfig(adaptor: .linear, tower: .seq, inputDim: d, adaptorDim: 12, experts: 1, hiddenDim: 8,
                                                        layers: 2, heads: 2, maxHistory: 5), seed: 4)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/" + HeadFiles.weightsName
    let file = try SafeTensorsFile(path: path)
    var w = SafeTensorsWriter()
    var renamed = 0
    for name in file.names {
        let old = SequentialTower.legacyName(name) ?? name
        if old != name { renamed += 1 }
        try w.add(old, shape: file.requireInfo(name).shape, floats: file.floats(name))
    }
    #expect(renamed == 2 * 16)
    #expect(file.names.contains("seq.layer.1.output.LayerNorm.weight"))
    try w.write(to: path)
    #expect(try SafeTensorsFile(path: path).names.contains("seq.layer.1.norm2.weight"))
    let loaded = try loadHead(dir)
    let hs: [[Int32]] = [[1, 2, 3, 4, 5, 6], [0], [19, 3]]
    let a = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: hs)
    let b = try loaded.vectors(itemEmbeddings: emb, itemCount: n, histories: hs)
    #expect(a.items == b.items && a.users == b.users)
}

@Test func loadHeadNamesAMissingFile() {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nohead-\(UUID().uuidString)").path
    #expect(throws: HeadError.self) { _ = try loadHead(dir) }
}
