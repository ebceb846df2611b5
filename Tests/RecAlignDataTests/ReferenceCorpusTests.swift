// ReferenceCorpusTests: ml-tiny against the independent Python reference (corpora/fixtures/protocol_reference.py).
import Foundation
import Testing
import RecAlignData

/// Output of `python3 corpora/fixtures/protocol_reference.py corpora/fixtures/ml-tiny ml-tiny 30`.
func mlTinyReference() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("ml-tiny-reference-L30.json")))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

@Test func mlTinyMatchesThePythonReference() throws {
    let ref = try mlTinyReference()
    let d = try RecBoleLoader.load(folder: Fixtures.mlTiny)
    let s = try Split(dataset: d)
    #expect(d.userCount == ref["users"] as! Int)
    #expect(d.itemCount == ref["items"] as! Int)
    #expect(Array(d.userIds.prefix(5)) == ref["first_user_ids"] as! [String])
    #expect(d.report.duplicatesDropped == 1 && d.report.usersDropped == 1)
    #expect(s.train.count == ref["train"] as! Int)
    #expect(s.cold.coldItems.map(Int.init) == ref["cold_rows"] as! [Int])
    #expect(s.cold.train.count == ref["cold_train"] as! Int)
    #expect(s.cold.validUsers.count == ref["cold_valid_users"] as! Int)
    #expect(s.cold.testUsers.count == ref["cold_test_users"] as! Int)
    #expect(TrainingPairs(sequences: s.train).count == ref["pairs_warm"] as! Int)
    #expect(TrainingPairs(sequences: s.cold.train).count == ref["pairs_cold"] as! Int)
    #expect(s.train.items(ofUser: 0).map(Int.init) == ref["user0_train"] as! [Int])
    #expect(Int(s.valid[0].itemRow) == ref["user0_valid"] as! Int)
    #expect(Int(s.test[0].itemRow) == ref["user0_test"] as! Int)
    let texts = ItemTextTemplate.ml100k.itemTexts(d)
    #expect([0, 6, 18, 11].map { texts[$0] } == ref["item_text_rows_0_7_18_11"] as! [String])
}

@Test func mlTinyUserTextsMatchThePythonReference() throws {
    let ref = try mlTinyReference()
    let d = try RecBoleLoader.load(folder: Fixtures.mlTiny)
    let s = try Split(dataset: d)
    let b = UserTextBuilder(itemTexts: ItemTextTemplate.ml100k.itemTexts(d), maxLength: 30, tokenCount: wordCount)
    for stage in EvalStage.allCases {
        for setting in EvalSetting.allCases {
            let kept = s.evaluatedUsers(stage, setting).map {
                b.text(split: s, user: Int($0), stage: stage, setting: setting).itemCount
            }
            #expect(kept == ref["kept_\(stage.rawValue)_\(setting.rawValue)_L30"] as! [Int], "\(stage) \(setting)")
        }
    }
    let pairs = TrainingPairs(sequences: s.train)
    let kept = pairs.pairs.map { b.text(pairs.history($0)).itemCount }
    #expect(kept == ref["kept_pairs_warm_L30"] as! [Int])
    // Truncation really happens in this fixture (a test of the rule, not of an empty case).
    #expect(kept.contains { $0 < 20 } && kept.max()! > 1)
}
