// RatingDataTests: explicit ratings beside the implicit interactions, their split, and bad ratings named by line.
import Foundation
import Testing
import RecAlignData

@Suite struct RatingDataTests {
    /// The hand corpus's ratings follow the interactions' order; the duplicate keeps its earliest rating.
    @Test func recBoleRatingsAreParallelToInteractions() throws {
        let d = try RecBoleLoader.load(folder: Fixtures.path("hand"))
        // Rows: users 2, 9, 10; per user by (timestamp, item row). User 10's item 3 was rated 5 at t = 5 and 1 at
        // t = 10: the earliest occurrence (5) is the one kept.
        #expect(d.ratings == [1, 2, 3, 3, 4, 4, 3, 5, 4, 5, 2, 5, 2, 2, 4, 1])
        #expect(d.interactions.count == 16)
        #expect(d.report.missingRatings == 0)
    }

    @Test func ratingSplitFollowsTheLeaveOneOutSplit() throws {
        let d = try RecBoleLoader.load(folder: Fixtures.path("hand"))
        let split = try Split(dataset: d)
        let r = try RatingSplit(dataset: d, split: split)
        #expect(r.offsets == split.train.offsets)
        #expect(r.trainItems == split.train.items)
        #expect(Array(r.trainRatings(ofUser: 0)) == [1, 2, 3, 3])
        #expect(Array(r.trainRatings(ofUser: 1)) == [3, 5, 4])
        #expect(Array(r.trainRatings(ofUser: 2)) == [5, 2, 2])
        #expect(r.valid == [4, 5, 4])
        #expect(r.test == [4, 2, 1])
        #expect(r.validItems == split.valid.map(\.itemRow) && r.testItems == split.test.map(\.itemRow))
        #expect(r.scale == 1...5)
        // Test-time history: train + the validation interaction, most recent last.
        let h = r.history(user: 1, stage: .test)
        #expect(h.map(\.rating) == [3, 5, 4, 5])
        #expect(h.map(\.item) == Array(split.history(user: 1, stage: .test, setting: .warm)))
        #expect(r.history(user: 1, stage: .valid).count == 3)
        #expect(r.target(user: 2, stage: .test).rating == 1)
    }

    @Test func movieLensRatingsComeFromTheThirdField() throws {
        let d = try MovieLensLoader.load(folder: Fixtures.path("movielens"))
        let ratings = try #require(d.ratings)
        #expect(ratings.count == d.interactions.count)
        #expect(Set(ratings).isSubset(of: [1, 2, 3, 4, 5]))
    }

    /// Ratings never change the implicit protocol: a corpus with an empty rating loads the same interactions,
    /// only without ratings, and says why.
    @Test func anEmptyRatingLeavesTheInteractionsAndDropsTheRatings() throws {
        let dir = try Fixtures.tempDir()
        let text = try String(contentsOfFile: Fixtures.path("hand/hand.inter"), encoding: .utf8)
        try text.replacingOccurrences(of: "9\t45\t3\t50", with: "9\t45\t\t50").write(toFile: dir + "/e.inter", atomically: true, encoding: .utf8)
        let d = try RecBoleLoader.load(folder: dir)
        let full = try RecBoleLoader.load(folder: Fixtures.path("hand"))
        #expect(d.interactions == full.interactions)
        #expect(d.ratings == nil)
        #expect(d.report.missingRatings == 1)
        #expect(d.report.description.hasSuffix("; 1 interactions have no rating (ratings unavailable)"))
        #expect(throws: DataError.self) { try RatingSplit(dataset: d, split: try Split(dataset: d)) }
        // Without a rating column there are none, and the report says nothing about them.
        let none = try RecBoleLoader.load(folder: Fixtures.path("bad"), options: LoadOptions(skipBadLines: true))
        #expect(none.ratings == nil && none.report.missingRatings == 0)
        do {
            _ = try RatingSplit(dataset: none, split: try Split(dataset: none))
            Issue.record("a corpus without ratings has no rating split")
        } catch let e as DataError {
            #expect("\(e)".contains("no explicit ratings (no rating column / field)"))
        }
    }

    /// Each bad rating is one error naming the file, the line and the value.
    @Test func aRatingThatIsNotAFiniteNumberIsABadLine() throws {
        let dir = try Fixtures.tempDir()
        // u.data: line 3 "x", line 5 "inf".
        var lines = try String(contentsOfFile: Fixtures.path("movielens/u.data"), encoding: .utf8).split(separator: "\n").map(String.init)
        func setRating(_ i: Int, _ v: String) { var f = lines[i].split(separator: "\t").map(String.init); f[2] = v; lines[i] = f.joined(separator: "\t") }
        setRating(2, "x"); setRating(4, "inf")
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/u.data", atomically: true, encoding: .utf8)
        do {
            _ = try MovieLensLoader.load(folder: dir)
            Issue.record("bad ratings must be refused")
        } catch let DataError.badLines(first, count) {
            #expect(count == 2)
            #expect(first.map(\.description) == ["\(dir)/u.data:3: rating 'x' is not a finite number",
                                                 "\(dir)/u.data:5: rating 'inf' is not a finite number"])
        }
        // A RecBole rating column typed token is checked the same way (a float column by its type, as before).
        let rb = try Fixtures.tempDir()
        try "user_id:token\titem_id:token\trating:token\ttimestamp:float\n1\t1\t4\t1\n1\t2\tnan\t2\n"
            .write(toFile: rb + "/t.inter", atomically: true, encoding: .utf8)
        #expect(throws: DataError.badLines(first: [LineError(path: rb + "/t.inter", line: 3, reason: "rating 'nan' is not a finite number")], count: 1)) {
            try RecBoleLoader.load(folder: rb, options: LoadOptions(minUserInteractions: 1))
        }
        // JSONL: a number, a numeric string or null (missing); anything else is refused.
        let js = try Fixtures.tempDir()
        try """
        {"user_id": 1, "item_id": 1, "timestamp": 1, "rating": 4.5}
        {"user_id": 1, "item_id": 2, "timestamp": 2, "rating": "3"}
        {"user_id": 1, "item_id": 3, "timestamp": 3, "rating": "five"}
        """.write(toFile: js + "/i.jsonl", atomically: true, encoding: .utf8)
        #expect(throws: DataError.badLines(first: [LineError(path: js + "/i.jsonl", line: 3, reason: "rating 'five' is not a finite number")], count: 1)) {
            try JSONLLoader.load(interactions: js + "/i.jsonl", options: LoadOptions(minUserInteractions: 1))
        }
        let ok = try JSONLLoader.load(interactions: js + "/i.jsonl", options: LoadOptions(skipBadLines: true, minUserInteractions: 1))
        #expect(ok.ratings == [4.5, 3])
    }
}
