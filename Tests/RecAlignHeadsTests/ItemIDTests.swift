// ItemIDTests: item identity in heads — ID-only learns without text, unseen items keep text alone, files.
import Foundation
import Testing
import RecAlignNN
import RecAlignData
import RecAlignHeads
import RecAlignTensor

/// Recall@1 of `head` on the test split of `split`.
func recallAt1(_ head: RecHead, emb: [Float], split: Split) throws -> Double {
    let users = split.evaluatedUsers(.test, .warm)
    let v = try head.vectors(itemEmbeddings: emb, itemCount: split.itemCount,
                             histories: users.map { split.history(user: Int($0), stage: .test, setting: .warm) })
    let ranks = HeadEvaluation.ranks(itemVectors: v.items, userVectors: v.users, dim: v.dim, users: users, split: split, stage: .test)
    return Double(ranks.filter { $0 == 1 }.count) / Double(ranks.count)
}

@Test func idOnlyTowerLearnsACycleWithoutText() throws {
    let n = 20, d = 16
    let zeros = [Float](repeating: 0, count: n * d)   // no text signal at all
    let split = cycleSplit(items: n, users: 200, seed: 4)
    let head = RecHead(config: HeadConfig(adaptor: .moe, tower: .seq, inputDim: d, hiddenDim: 16, layers: 1, heads: 2,
                                          maxHistory: 10, dropout: 0, itemInput: .id, itemCount: n), seed: 1)
    #expect(head.moe == nil && head.linear == nil && head.proj == nil, "an ID-only head has no text path")
    var options = HeadTrainingOptions()
    options.epochs = 30; options.lr = 5e-3; options.batchSize = 32; options.warmupFraction = 0.05
    _ = try HeadTrainer(head: head, itemEmbeddings: zeros, split: split, setting: .warm, options: options).run()
    let r1 = try recallAt1(head, emb: zeros, split: split)
    #expect(r1 > 0.9, "ID-only Recall@1 \(r1)")
}

@Test func itemsNeverTrainedOnKeepZeroIDVectors() throws {
    // Users walk a cycle over items 0..<16 only; items 16..<20 never occur in training.
    let n = 20, seen = 16, d = 16
    let emb = unitVectors(n, d, seed: 5)
    let split = cycleSplit(items: seen, users: 60, seed: 8)
    let wide = Split(userIds: split.userIds, itemIds: (0..<n).map(String.init), train: split.train, valid: split.valid,
                     test: split.test, cold: ColdSplit(coldItems: [], itemCount: n, warmTrain: split.train, valid: split.valid, test: split.test))
    let config = HeadConfig(adaptor: .linear, tower: .seq, inputDim: d, adaptorDim: d, hiddenDim: 16, layers: 1, heads: 2,
                            maxHistory: 6, dropout: 0.1, itemInput: .textAndID, itemCount: n, idDropout: 0.3)
    let head = RecHead(config: config, seed: 3)
    var options = HeadTrainingOptions()
    options.epochs = 3; options.batchSize = 16
    _ = try HeadTrainer(head: head, itemEmbeddings: emb, split: wide, setting: .warm, options: options).run()
    let table = head.itemID!.weight.array
    for r in 0..<n {
        let row = table[(r * 16)..<((r + 1) * 16)]
        if r < seen { #expect(row.contains { $0 != 0 }, "seen item \(r) has no ID vector") }
        else { #expect(row.allSatisfy { $0 == 0 }, "unseen item \(r) has a non-zero ID vector") }
    }
    // An unseen item's vector is its text part alone: the same as in a copy of the head without the ID table.
    let textOnly = RecHead(config: HeadConfig(adaptor: .linear, tower: .seq, inputDim: d, adaptorDim: d, hiddenDim: 16, layers: 1,
                                              heads: 2, maxHistory: 6, dropout: 0.1), seed: 3)
    for (name, t) in textOnly.namedParameters() {
        let src = head.namedParameters().first { $0.name == name }!.tensor
        t.data.update(from: src.data, count: t.count)
    }
    let a = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: [[0, 1]])
    let b = try textOnly.vectors(itemEmbeddings: emb, itemCount: n, histories: [[0, 1]])
    for j in (seen * 16)..<(n * 16) { #expect(abs(a.items[j] - b.items[j]) < 1e-6) }
}

@Test func savedTextAndIDHeadReloadsToIdenticalScores() throws {
    let n = 30, d = 16
    let emb = unitVectors(n, d, seed: 33)
    let (head, dir) = try savedPerturbedHead(HeadConfig(adaptor: .moe, tower: .seq, inputDim: d, adaptorDim: 12, experts: 3, hiddenDim: 8,
                                                        layers: 1, heads: 2, maxHistory: 7, itemInput: .textAndID, itemCount: n,
                                                        idDropout: 0.2), seed: 10)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let loaded = try loadHead(dir)
    #expect(loaded.config == head.config)
    let hs: [[Int32]] = [[1, 2, 3], [29, 0]]
    let a = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: hs)
    let b = try loaded.vectors(itemEmbeddings: emb, itemCount: n, histories: hs)
    #expect(a.items == b.items && a.users == b.users)
    #expect(throws: HeadError.self) { _ = try loaded.vectors(itemEmbeddings: Array(emb.prefix(29 * d)), itemCount: 29, histories: hs) }
}

@Test func headConfigsSavedBeforeItemIdentityReadAsText() throws {
    let json = #"{"adaptor":"moe","tower":"seq","inputDim":384,"adaptorDim":128,"experts":8,"hiddenDim":256,"layers":2,"heads":2,"ffnMultiplier":2,"maxHistory":50,"dropout":0.3,"scale":20}"#
    let c = try JSONDecoder().decode(HeadConfig.self, from: Data(json.utf8))
    #expect(c.itemInput == .text && c.itemCount == 0 && c.idDropout == 0)
    try c.validate()
    var bad = c
    bad.itemInput = .textAndID
    #expect(throws: HeadError.self) { try bad.validate() }   // ID items need an item count
}
