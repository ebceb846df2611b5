// ML100KTests: the PROTOCOL's ml-100k figures; run only when corpora/ml-100k holds the RecBole files.
import Foundation
import Testing
import RecAlignData

@Suite(.enabled(if: Fixtures.hasML100K, "needs corpora/ml-100k/ml-100k.inter (corpora/fetch_ml100k.sh)"))
struct ML100KTests {
    /// Loaded once for the whole suite.
    static let loaded = Result { () throws -> (Dataset, Split) in
        let clock = ContinuousClock()
        var d: Dataset?
        let tLoad = try clock.measure { d = try RecBoleLoader.load(folder: Fixtures.ml100k, name: "ml-100k") }
        var s: Split?
        let tSplit = try clock.measure { s = try Split(dataset: d!) }
        print("ml-100k: load \(tLoad), split \(tSplit)")
        return (d!, s!)
    }
    let dataset: Dataset
    let split: Split

    init() throws { (dataset, split) = try ML100KTests.loaded.get() }

    @Test func corpusAndWarmSplit() {
        #expect(dataset.userCount == 943)
        #expect(dataset.itemCount == 1682)
        #expect(dataset.interactions.count == 100_000)
        #expect(dataset.report.duplicatesDropped == 0 && dataset.report.usersDropped == 0)
        #expect(split.train.count == 98_114)
        #expect(split.valid.count == 943 && split.test.count == 943)
    }

    @Test func coldSplit() {
        #expect(split.cold.coldItems.count == 252)
        #expect(Array(split.cold.coldItems.prefix(10)) == [3, 16, 20, 25, 38, 45, 47, 49, 57, 68])
        #expect(split.cold.train.count == 84_482)
        #expect(split.cold.testUsers.count == 121)
        #expect(split.cold.validUsers.count == 112)
    }

    @Test func trainingPairs() {
        #expect(TrainingPairs(sequences: split.train).count == 97_171)
    }

    @Test func allTrainingPairTextsRespectTheLength() {
        let b = UserTextBuilder(itemTexts: ItemTextTemplate.ml100k.itemTexts(dataset), maxLength: 128, tokenCount: wordCount)
        let pairs = TrainingPairs(sequences: split.train)
        let clock = ContinuousClock()
        var totalChars = 0, fit = 0, kept = 0
        let elapsed = clock.measure {
            for p in pairs.pairs {
                let t = b.text(pairs.history(p))
                totalChars += t.text.utf8.count
                kept += t.itemCount
                if t.tokenCount <= 128 || t.itemCount == 1 { fit += 1 }
                if t.itemCount > min(20, Int(p.position)) { fit -= 1 }
            }
        }
        print("ml-100k: built \(pairs.count) user texts (fake word counter) in \(elapsed); mean items \(Double(kept) / Double(pairs.count))")
        #expect(fit == pairs.count)
        #expect(totalChars > 0)
    }

    @Test func duplicateFreeBatchesOfAllPairs() {
        let targets = TrainingPairs(sequences: split.train).targets
        var batches: [[Int]] = []
        let elapsed = ContinuousClock().measure {
            batches = NoDuplicateBatcher.epochBatches(targets: targets, batchSize: 64, epoch: 0)
        }
        print("ml-100k: \(batches.count) no-duplicate batches of 64 over \(targets.count) pairs in \(elapsed)")
        #expect(batches.flatMap { $0 }.count == targets.count)
        #expect(batches.allSatisfy { b in Set(b.map { targets[$0] }).count == b.count })
    }

    @Test func itemTexts() {
        let texts = ItemTextTemplate.default(for: dataset).itemTexts(dataset)
        #expect(texts[0] == "Toy Story (1995) Animation Children's Comedy")
        #expect(texts[dataset.itemIds.firstIndex(of: "267")!] == "unkonwn (unkonwn) unknown")
    }

    @Test func movieLensLayoutGivesTheSameInteractions() throws {
        // ml-100k.inter without its header is exactly u.data (user, item, rating, timestamp).
        let inter = try String(contentsOfFile: Fixtures.ml100k + "/ml-100k.inter", encoding: .utf8)
        let dir = try Fixtures.tempDir()
        try String(inter.drop(while: { $0 != "\n" }).dropFirst()).write(toFile: dir + "/u.data", atomically: true, encoding: .utf8)
        let raw = try MovieLensLoader.load(folder: dir)
        #expect(raw.userIds == dataset.userIds)
        #expect(raw.itemIds == dataset.itemIds)
        #expect(raw.interactions == dataset.interactions)
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test func splitFilesRoundTrip() throws {
        let texts = ItemTextTemplate.ml100k.itemTexts(dataset)
        let dir = try Fixtures.tempDir()
        try SplitFiles.write(split, itemTexts: texts, to: dir)
        let back = try SplitFiles.read(from: dir)
        #expect(back.split == split)
        #expect(back.itemTexts == texts)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
