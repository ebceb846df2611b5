// PairsTests: training pairs (count, lazy texts, subsample) and duplicate-free seeded batches.
import Foundation
import Testing
import RecAlignData

@Test func pairsCoverEveryPrefixOfTheTrainSequences() throws {
    let s = try handSplit()
    let p = TrainingPairs(sequences: s.train)
    // train lengths 4, 3, 3 -> 3 + 2 + 2 pairs.
    #expect(p.count == 7)
    #expect(p.pairs.first == TrainingPair(user: 0, position: 1))
    #expect(p.target(p[0]) == 2)
    #expect(Array(p.history(p[2])) == [5, 2, 1])
    #expect(p.target(p[2]) == 4)
    #expect(p.targets == [2, 1, 4, 0, 3, 1, 3])
    let cp = TrainingPairs(sequences: s.trainSequences(.cold))
    #expect(cp.count == 2 + 2 + 1)
    let (_, b) = try handBuilder(128)
    let t = p.texts(1, builder: b)
    #expect(t.user == "Fargo (1996) Crime Drama Thriller ; Shanghai Triad (Yao a yao yao dao waipo qiao) (1995) Drama")
    #expect(t.item == "Copycat (1995) Crime Drama Horror Mystery Thriller")
}

@Test func subsampleIsSeededUniformAndOrdered() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.mlTiny)
    let p = TrainingPairs(sequences: try Split(dataset: d).train)
    let a = p.subsampled(40, seed: 1), b = p.subsampled(40, seed: 1), c = p.subsampled(40, seed: 2)
    #expect(a.count == 40)
    #expect(a.pairs == b.pairs)
    #expect(a.pairs != c.pairs)
    #expect(Set(a.pairs).count == 40)
    #expect(Set(a.pairs).isSubset(of: Set(p.pairs)))
    #expect(a.pairs == a.pairs.sorted { ($0.user, $0.position) < ($1.user, $1.position) })
    #expect(p.subsampled(10_000, seed: 1).count == p.count)
}

@Test func batchesHaveNoDuplicateTargetsAndCoverEveryPairOnce() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.mlTiny)
    let p = TrainingPairs(sequences: try Split(dataset: d).train)
    let targets = p.targets
    for bs in [1, 4, 8, 16] {
        let batches = NoDuplicateBatcher.epochBatches(targets: targets, batchSize: bs, epoch: 0)
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<p.count))
        for batch in batches {
            #expect(batch.count <= bs)
            #expect(Set(batch.map { targets[$0] }).count == batch.count)
        }
    }
    let e0 = NoDuplicateBatcher.epochBatches(targets: targets, batchSize: 8, epoch: 0)
    #expect(e0 == NoDuplicateBatcher.batches(targets: targets, batchSize: 8, seed: 42))
    #expect(e0 != NoDuplicateBatcher.epochBatches(targets: targets, batchSize: 8, epoch: 1))
}

@Test func batcherDefersDuplicatesGreedily() {
    // Hand case: targets [7, 7, 8, 7, 9] in a fixed order; reproduce the shuffle to know the order.
    let targets: [Int32] = [7, 7, 8, 7, 9]
    var order = Array(0..<5)
    var rng = SplitMix64(seed: 5)
    rng.shuffle(&order)
    // Reference: the sentence-transformers loop on `order`.
    var remaining = order, expected: [[Int]] = []
    while !remaining.isEmpty {
        var batch: [Int] = [], seen = Set<Int32>()
        for i in remaining where !seen.contains(targets[i]) && batch.count < 2 {
            batch.append(i); seen.insert(targets[i])
        }
        expected.append(batch)
        remaining.removeAll { batch.contains($0) }
    }
    #expect(NoDuplicateBatcher.batches(targets: targets, batchSize: 2, seed: 5) == expected)
    // Three 7s can never share a batch: at least three batches.
    #expect(expected.count >= 3)
    // dropLast removes only short batches.
    let dropped = NoDuplicateBatcher.batches(targets: targets, batchSize: 2, seed: 5, dropLast: true)
    #expect(dropped == expected.filter { $0.count == 2 })
}

@Test func textKeyBatchesNeverRepeatAText() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.mlTiny)
    let p = TrainingPairs(sequences: try Split(dataset: d).train)
    let b = UserTextBuilder(itemTexts: ItemTextTemplate.ml100k.itemTexts(d), maxLength: 64, tokenCount: wordCount)
    let keys = p.textKeys(builder: b)
    #expect(keys.count == 2 * p.count)
    // A one-item user text equals that item's text, so it shares the item's key.
    let first = p.pairs.firstIndex { $0.position == 1 }!
    let firstItem = p.history(p[first]).first!
    let sameItemTarget = p.pairs.firstIndex { p.target($0) == firstItem }
    let j = try #require(sameItemTarget)
    #expect(keys[2 * first] == keys[2 * j + 1])
    let batches = NoDuplicateBatcher.batches(keys: keys, keysPerSample: 2, batchSize: 8, seed: 42)
    #expect(batches.flatMap { $0 }.sorted() == Array(0..<p.count))
    for batch in batches {
        let texts = batch.flatMap { [p.texts($0, builder: b).user, p.texts($0, builder: b).item] }
        #expect(Set(texts).count == texts.count)
    }
    // With one key per sample the keyed form is the target form.
    #expect(NoDuplicateBatcher.batches(keys: p.targets, keysPerSample: 1, batchSize: 8, seed: 3)
        == NoDuplicateBatcher.batches(targets: p.targets, batchSize: 8, seed: 3))
}
