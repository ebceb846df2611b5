// SplitTests: leave-one-out with timestamp ties, the cold split, visible history and exclusions (hand-computed).
import Foundation
import Testing
import RecAlignData

/// hand: users 2, 9, 10 (rows 0-2); items 3, 5, 6, 20, 45, 100 (rows 0-5).
func handSplit() throws -> Split { try Split(dataset: try RecBoleLoader.load(folder: Fixtures.path("hand"))) }

@Test func leaveOneOutBreaksTimestampTiesByItemId() throws {
    let s = try handSplit()
    // user 2: 100@1, 6@2, 5@3, 45@3 | 3@4 (valid) | 20@4 (test): ties at 3 and 4 by numeric item id.
    #expect(Array(s.train.items(ofUser: 0)) == [5, 2, 1, 4])
    #expect(Array(s.train.timestamps(ofUser: 0)) == [1, 2, 3, 3])
    #expect(s.valid[0] == HeldOut(itemRow: 0, timestamp: 4))
    #expect(s.test[0] == HeldOut(itemRow: 3, timestamp: 4))
    // user 9: 45@50, 3@100, 20@100 | 5@200 | 100@300.
    #expect(Array(s.train.items(ofUser: 1)) == [4, 0, 3])
    #expect(s.valid[1].itemRow == 1 && s.test[1].itemRow == 5)
    // user 10: 3@5 (dedup kept the earliest), 5@20, 20@20 (5 < 20 numerically, though "20" < "5") | 6@30 | 45@40.
    #expect(Array(s.train.items(ofUser: 2)) == [0, 1, 3])
    #expect(s.valid[2].itemRow == 2 && s.test[2].itemRow == 4)
    #expect(s.train.count == 10)
}

@Test func coldItemCountRoundsHalfToEven() {
    #expect(Split.coldItemCount(itemCount: 1682) == 252)
    #expect(Split.coldItemCount(itemCount: 30) == 4)   // 4.5 -> 4, as Python's round
    #expect(Split.coldItemCount(itemCount: 6) == 1)
    #expect(Split.coldItemCount(itemCount: 10) == 2)   // 1.5 -> 2
}

@Test func coldSplitOnTheHandCorpus() throws {
    let s = try handSplit()
    // m = 1; j = 13679457532755275413 % 6 = 1 -> row 1 (item "5") is cold.
    #expect(s.cold.coldItems == [1])
    #expect(s.cold.isCold == [false, true, false, false, false, false])
    #expect(Array(s.cold.train.items(ofUser: 0)) == [5, 2, 4])
    #expect(Array(s.cold.train.items(ofUser: 1)) == [4, 0, 3])
    #expect(Array(s.cold.train.items(ofUser: 2)) == [0, 3])
    #expect(s.cold.train.count == 8)
    #expect(s.cold.validUsers == [1])
    #expect(s.cold.testUsers == [])
    #expect(s.evaluatedUsers(.valid, .cold) == [1])
    #expect(s.evaluatedUsers(.test, .warm) == [0, 1, 2])
}

@Test func visibleHistoryAndExclusions() throws {
    let s = try handSplit()
    #expect(s.history(user: 0, stage: .valid, setting: .warm) == [5, 2, 1, 4])
    #expect(s.history(user: 0, stage: .test, setting: .warm) == [5, 2, 1, 4, 0])
    #expect(s.history(user: 0, stage: .valid, setting: .cold) == [5, 2, 4])
    // user 2's validation item (row 0) is warm: it is visible at cold test.
    #expect(s.history(user: 0, stage: .test, setting: .cold) == [5, 2, 4, 0])
    // user 9's validation item (row 1) is cold: not visible at cold test.
    #expect(s.history(user: 1, stage: .test, setting: .cold) == [4, 0, 3])
    // Exclusions: full original train items (cold ones too) + the validation item at test; never the target.
    #expect(s.exclusions(user: 0, stage: .valid) == [1, 2, 4, 5])
    #expect(s.exclusions(user: 0, stage: .test) == [0, 1, 2, 4, 5])
    #expect(s.exclusions(user: 1, stage: .test) == [0, 1, 3, 4])
    #expect(s.exclusionSet(user: 1, stage: .test) == [0, 1, 3, 4])
    #expect(s.target(user: 1, stage: .test) == HeldOut(itemRow: 5, timestamp: 300))
}

@Test func splitRefusesUsersWithFewerThanThreeInteractions() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.path("hand"), options: LoadOptions(minUserInteractions: 1))
    #expect(d.userIds == ["2", "7", "9", "10"])
    var small = d
    small.interactions = d.interactions.filter { !($0.userRow == 1 && $0.itemRow > 1) }
    #expect(throws: DataError.self) { try Split(dataset: small) }
}

@Test func splitFilesRoundTrip() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.mlTiny)
    let s = try Split(dataset: d)
    let texts = ItemTextTemplate.ml100k.itemTexts(d)
    let dir = try Fixtures.tempDir()
    try SplitFiles.write(s, itemTexts: texts, to: dir)
    let back = try SplitFiles.read(from: dir)
    #expect(back.split == s)
    #expect(back.itemTexts == texts)
    let train = try String(contentsOfFile: dir + "/train.tsv", encoding: .utf8).split(separator: "\n")
    #expect(train[0] == "user_id\titem_id\ttimestamp")
    #expect(train.count == 1 + s.train.count)
    let items = try String(contentsOfFile: dir + "/items.tsv", encoding: .utf8).split(separator: "\n")
    #expect(items[1] == "0\t1\tThe Stone Paper (1991) Animation")
    let meta = try JSONDecoder().decode(SplitMeta.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/meta.json")))
    #expect(meta == SplitMeta(s))
    #expect(meta.coldItems == 4 && meta.users == 20)
    // No temp files are left behind.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty)
}

@Test func splitFilesWithFractionalTimestampsAndStringIdsRoundTrip() throws {
    let d = try JSONLLoader.load(interactions: Fixtures.path("jsonl/interactions.jsonl"),
                                 items: Fixtures.path("jsonl/items.jsonl"))
    let s = try Split(dataset: d)
    let dir = try Fixtures.tempDir()
    try SplitFiles.write(s, itemTexts: ItemTextTemplate(fields: ["text"]).itemTexts(d), to: dir)
    let back = try SplitFiles.read(from: dir)
    #expect(back.split == s)
    #expect(back.itemTexts[3] == "")
}

@Test func corruptSplitFileNamesTheLine() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.path("hand"))
    let s = try Split(dataset: d)
    let dir = try Fixtures.tempDir()
    try SplitFiles.write(s, itemTexts: ItemTextTemplate.ml100k.itemTexts(d), to: dir)
    var lines = try String(contentsOfFile: dir + "/train.tsv", encoding: .utf8).split(separator: "\n").map(String.init)
    lines[3] = "2\t777\t3"
    try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/train.tsv", atomically: true, encoding: .utf8)
    #expect(throws: DataError.badLines(first: [LineError(path: dir + "/train.tsv", line: 4, reason: "unknown item id '777'")], count: 1)) {
        try SplitFiles.read(from: dir)
    }
}
