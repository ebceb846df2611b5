// TransitionPriorTests: the transition term against hand-computed counts, its two-tower form, its choice on validation.
import Foundation
import Testing
import RecAlignData
import RecAlignHeads
import RecAlignMetrics

/// Train sequences 0→1→2, 0→1, 1→0 over 3 items: c(0→1) = 2, c(1→2) = 1, c(1→0) = 1.
func tinySequences() -> InteractionSequences {
    InteractionSequences(perUser: [[0, 1, 2], [0, 1], [1, 0]].map { $0.map { (item: Int32($0), timestamp: 0) } })
}

@Test func transitionTermMatchesHandCountedPairs() throws {
    let t = try TransitionPrior(sequences: tinySequences(), itemCount: 3, lastItems: 3, decay: 0.5)
    // History 2, 0, 1 (1 the most recent): term(i) = 1·L(1→i) + 0.5·L(0→i) + 0.25·L(2→i), L = log(1 + c).
    let s = t.scores(histories: [[2, 0, 1], [1]])
    let expected: [Float] = [log(2), 0.5 * log(3), log(2),   // user 0: items 0, 1, 2
                             log(2), 0, log(2)]              // user 1: only the last item, 1
    for (a, b) in zip(s, expected) { #expect(abs(a - b) < 1e-6, "\(s) vs \(expected)") }
    // Only the last k items count: k = 1 drops 0 and 2 from user 0's history.
    let last1 = try TransitionPrior(sequences: tinySequences(), itemCount: 3, lastItems: 1, decay: 0.5)
    #expect(last1.scores(histories: [[2, 0, 1]]) == [log(2), 0, log(2)])
}

@Test func widenedTowersScoreCosinePlusWeightedTerm() throws {
    let t = try TransitionPrior(sequences: tinySequences(), itemCount: 3, lastItems: 2, decay: 0.5)
    let d = 4, items = unitVectors(3, d, seed: 2), users = unitVectors(2, d, seed: 3)
    let hs: [[Int32]] = [[0, 1], [2]]
    let w: Float = 0.3
    let a = t.augment(users: users, items: items, dim: d, histories: hs, weight: w)
    #expect(a.dim == d + 3)
    let term = t.scores(histories: hs)
    for u in 0..<2 {
        for i in 0..<3 {
            var cos: Float = 0, wide: Float = 0
            for c in 0..<d { cos += users[u * d + c] * items[i * d + c] }
            for c in 0..<a.dim { wide += a.users[u * a.dim + c] * a.items[i * a.dim + c] }
            #expect(abs(wide - (cos + w * term[u * 3 + i])) < 1e-6)
        }
    }
}

@Test func transitionTermRefusesItemsOutsideTheCatalog() {
    let bad = InteractionSequences(perUser: [[(item: 0, timestamp: 0), (item: 3, timestamp: 1)]])
    #expect(throws: HeadError.self) { _ = try TransitionPrior(sequences: bad, itemCount: 3, lastItems: 3, decay: 0.5) }
    #expect(throws: HeadError.self) { _ = try TransitionPrior(sequences: tinySequences(), itemCount: 3, lastItems: 0, decay: 0.5) }
    #expect(throws: HeadError.self) { _ = try TransitionPrior(sequences: tinySequences(), itemCount: TransitionPrior.maxItems + 1, lastItems: 3, decay: 0.5) }
}

/// On a cycle (the next item is always the last one + 1) the transitions predict every target: validation picks a
/// weight above 0, the fused test ranks most targets first (MRR@10 0.84 against the untrained tower's 0.18), and the
/// weight survives a save and a load.
@Test func validationChoosesATransitionWeightThatHelps() throws {
    let n = 20, d = 16
    let emb = unitVectors(n, d, seed: 5)
    let split = cycleSplit(items: n, users: 120, seed: 9)
    let head = RecHead(config: HeadConfig(adaptor: .moe, tower: .seq, inputDim: d, adaptorDim: 12, experts: 3, hiddenDim: 8,
                                          layers: 1, heads: 2, maxHistory: 7, itemInput: .textAndID, itemCount: n), seed: 4)
    let before = try HeadEvaluation.evaluate(head, itemEmbeddings: emb, split: split, stage: .test, setting: .warm)
    let byWeight = try HeadEvaluation.chooseTransitionWeight(head, itemEmbeddings: emb, split: split, setting: .warm)
    #expect(byWeight.map(\.weight) == TransitionPrior.weightGrid)
    #expect(head.config.transitionWeight > 0)
    #expect(byWeight[0].valid.recall10 < byWeight.first { $0.weight == head.config.transitionWeight }!.valid.recall10)
    let test = try HeadEvaluation.evaluate(head, itemEmbeddings: emb, split: split, stage: .test, setting: .warm)
    #expect(test.mrr10 >= 0.8 && test.mrr10 > before.mrr10 + 0.5, "tower alone \(before.line), fused \(test.line)")
    // One pass gives the tower alone and the fused scores, ranked as the widened two-tower vectors rank them.
    let both = try HeadEvaluation.evaluate(head, itemEmbeddings: emb, split: split, stage: .test, setting: .warm,
                                           transitionWeights: [0, head.config.transitionWeight])
    #expect(both == [before, test])
    let users = split.evaluatedUsers(.test, .warm)
    let hs = users.map { split.history(user: Int($0), stage: .test, setting: .warm) }
    let v = try head.vectors(itemEmbeddings: emb, itemCount: n, histories: hs)
    let t = try #require(try head.weightedTransitions(train: split.trainSequences(.warm), itemCount: n))
    let wide = t.prior.augment(users: v.users, items: v.items, dim: v.dim, histories: hs, weight: t.weight)
    #expect(wide.dim == 8 + n)  // the tower's width, then one coordinate per item
    #expect(MetricSummary(ranks: HeadEvaluation.ranks(itemVectors: wide.items, userVectors: wide.users, dim: wide.dim, users: users,
                                                      split: split, stage: .test)) == test)

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("transition-head-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try HeadFiles.save(head, to: dir)
    let loaded = try loadHead(dir)
    #expect(loaded.config == head.config)
    #expect(try HeadEvaluation.evaluate(loaded, itemEmbeddings: emb, split: split, stage: .test, setting: .warm) == test)
    // Off the corpus it was trained on (IDs unused) the head has no transition term.
    #expect(try loaded.transitions(train: split.train, itemCount: n, useIDs: false) == nil)
}

@Test func headConfigsSavedBeforeTheTransitionTermHaveNone() throws {
    let json = #"{"adaptor":"moe","tower":"seq","inputDim":384,"adaptorDim":128,"experts":8,"hiddenDim":256,"layers":2,"heads":2,"ffnMultiplier":2,"maxHistory":50,"dropout":0.3,"scale":20,"itemInput":"text+id","itemCount":1682,"idDropout":0.3}"#
    var c = try JSONDecoder().decode(HeadConfig.self, from: Data(json.utf8))
    #expect(c.transitionWeight == 0 && c.transitionItems == 3 && c.transitionDecay == 0.5)
    try c.validate()
    c.transitionDecay = 0
    #expect(throws: HeadError.self) { try c.validate() }
}
