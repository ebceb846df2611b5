// TextTests: item text template and user-text truncation with a fake token counter (hand-computed).
import Foundation
import Testing
import RecAlignData

@Test func itemTextTemplateCollapsesAndOmits() throws {
    let d = try RecBoleLoader.load(folder: Fixtures.path("hand"))
    let t = ItemTextTemplate.default(for: d).itemTexts(d)
    #expect(t == ["Three Colors: Blue (1993) Drama",
                  "Copycat (1995) Crime Drama Horror Mystery Thriller",
                  "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995) Drama",
                  "Angels and Insects Drama Romance",
                  "Eat Drink Man Woman (1994)",
                  "Fargo (1996) Crime Drama Thriller"])
    let tpl = ItemTextTemplate(parts: [.init(field: "a"), .init(field: "b", prefix: "[", suffix: "]")])
    #expect(tpl.text { ["a": "  x \t y\n", "b": " z  "][$0] } == "x y [z]")
    #expect(tpl.text { ["a": "", "b": "  "][$0] } == "")
    #expect(collapseWhitespace("\t a  b \n") == "a b")
}

/// Word counts of the hand item texts: 5, 7, 11, 5, 5, 5.
func handBuilder(_ L: Int, maxItems: Int = 20) throws -> (Split, UserTextBuilder) {
    let d = try RecBoleLoader.load(folder: Fixtures.path("hand"))
    return (try Split(dataset: d),
            UserTextBuilder(itemTexts: ItemTextTemplate.ml100k.itemTexts(d), maxLength: L, maxItems: maxItems,
                            tokenCount: wordCount))
}

@Test func userTextDropsOldestItemsToFit() throws {
    // user 2 at test (warm): rows [5, 2, 1, 4, 0] with 5 + 11 + 7 + 5 + 5 = 33 tokens -> 2 + 33 + 4 = 39.
    let h: [Int32] = [5, 2, 1, 4, 0]
    let cases: [(L: Int, k: Int, tokens: Int)] = [
        (39, 5, 39), (38, 4, 33), (33, 4, 33), (32, 3, 21), (21, 3, 21), (20, 2, 13), (13, 2, 13), (12, 1, 7), (5, 1, 7),
    ]
    for c in cases {
        let (s, b) = try handBuilder(c.L)
        let t = b.text(h)
        #expect(t.itemCount == c.k, "L = \(c.L)")
        #expect(t.tokenCount == c.tokens, "L = \(c.L)")
        #expect(t.text == h.suffix(c.k).map { b.itemTexts[Int($0)] }.joined(separator: " ; "))
        #expect(b.text(split: s, user: 0, stage: .test, setting: .warm) == t)
    }
    let (_, b) = try handBuilder(38)
    #expect(b.text(h).text == "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995) Drama ; "
        + "Copycat (1995) Crime Drama Horror Mystery Thriller ; Eat Drink Man Woman (1994) ; Three Colors: Blue (1993) Drama")
    // The token count matches the protocol's formula on the joined text ("1 token per ';'").
    #expect(wordCount(b.text(h).text) + 2 == b.text(h).tokenCount)
    #expect(b.text([Int32]()) == UserText(text: "", itemCount: 0, tokenCount: 2))
}

@Test func userTextKeepsAtMostMaxItemsMostRecent() throws {
    let (_, b) = try handBuilder(1000, maxItems: 2)
    let t = b.text([5, 2, 1, 4, 0] as [Int32])
    #expect(t.itemCount == 2)
    #expect(t.text == "Eat Drink Man Woman (1994) ; Three Colors: Blue (1993) Drama")
}

@Test func itemTokenCountsAreComputedOncePerItem() {
    final class Counter: @unchecked Sendable { var calls = 0 }
    let c = Counter()
    let b = UserTextBuilder(itemTexts: ["a b", "c", "d e f"], maxLength: 10) { c.calls += 1; return wordCount($0) }
    for _ in 0..<100 { _ = b.text([0, 1, 2, 1] as [Int32]) }
    #expect(c.calls == 3)
    #expect(b.itemTokenCounts == [2, 1, 3])
    // [0,1,2,1]: 2+1+3+1 = 7 -> 2 + 7 + 3 = 12 > 10 -> drop 0: 5 -> 2 + 5 + 2 = 9.
    #expect(b.text([0, 1, 2, 1] as [Int32]).itemCount == 3)
}

@Test func userTextFilesListTheEvaluatedUsers() throws {
    let (s, b) = try handBuilder(32)
    let dir = try Fixtures.tempDir()
    let p = try b.writeUserTexts(split: s, stage: .test, setting: .warm, to: dir)
    #expect(p == dir + "/user_text_test_32.tsv")
    let lines = try String(contentsOfFile: p, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 4)
    #expect(lines[0] == "user_id\tn_items\ttext")
    #expect(lines[1] == "2\t3\tCopycat (1995) Crime Drama Horror Mystery Thriller ; Eat Drink Man Woman (1994) ; Three Colors: Blue (1993) Drama")
    let cold = try b.writeUserTexts(split: s, stage: .valid, setting: .cold, to: dir + "/cold")
    let coldLines = try String(contentsOfFile: cold, encoding: .utf8).split(separator: "\n")
    #expect(coldLines.count == 2)
    #expect(coldLines[1].hasPrefix("9\t3\t"))
}
