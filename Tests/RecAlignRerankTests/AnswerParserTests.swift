// AnswerParserTests: a table of messy model answers and the candidate order each must give.
import Foundation
import Testing
@testable import RecAlignRerank
import RecAlignMetrics

@Suite struct AnswerParserTests {
    static let candidates = [
        CandidateItem(itemId: "204", text: "Back to the Future (1985) Comedy Sci-Fi"),
        CandidateItem(itemId: "178", text: "12 Angry Men (1957) Drama"),
        CandidateItem(itemId: "98", text: "Silence of the Lambs, The (1991) Drama Thriller"),
        CandidateItem(itemId: "7", text: "Twelve Monkeys (1995) Drama Sci-Fi"),
        CandidateItem(itemId: "183", text: "Alien (1979) Action Horror Sci-Fi Thriller"),
        CandidateItem(itemId: "176", text: "Aliens (1986) Action Sci-Fi Thriller War"),
        CandidateItem(itemId: "12", text: "Usual Suspects, The (1995) Crime Thriller"),
    ]
    static let retriever = candidates.map(\.itemId)
    let parser = AnswerParser(candidates: candidates, expected: 3)

    /// (answer, ids the model named in order, status).
    static let table: [(String, [String], ParseStatus)] = [
        (#"["98", "7", "204"]"#, ["98", "7", "204"], .ok),
        ("[98, 7, 204]", ["98", "7", "204"], .ok),
        (#"{"ranking": ["7", "98", "7", "999", "204"]}"#, ["7", "98", "204"], .ok),
        ("```json\n[\"176\", \"183\"]\n```", ["176", "183"], .partial),
        ("Sure! Here is my ranking:\n1. [98] Silence of the Lambs, The (1991)\n2. Twelve Monkeys\n3. 12 Angry Men (1957)\nHope this helps.",
         ["98", "7", "178"], .ok),
        (#"["ALIENS (1986)", "alien", "silence of the lambs, the"]"#, ["176", "183", "98"], .ok),
        ("['Back to the Future (1985)', 'Usual Suspects, The (1995)']", ["204", "12"], .partial),
        ("I think the user would enjoy Aliens most, then Back to the Future, and maybe Twelve Monkeys.",
         ["176", "204", "7"], .ok),
        ("asdf qwerty", [], .failed),
        ("", [], .failed),
        ("42", [], .failed),
        ("id 7\nid: 98", ["7", "98"], .partial),
        (#"[{"id": "98", "title": "x"}, {"title": "Alien (1979)"}]"#, ["98", "183"], .partial),
        (#"{"1": "204", "2": "7", "3": "98"}"#, ["204", "7", "98"], .ok),
        ("[7] Twelve Monkeys\n[7] Twelve Monkeys\n[999] Unknown", ["7"], .partial),
        ("- Usual Suspects, The\n- 12: whatever\n* Back to the Future (1985) is a classic", ["12", "204"], .partial),
        ("Rank 1: [183]\nRank 2: [176]\nRank 3: [204]\nRank 4: [98]", ["183", "176", "204", "98"], .ok),
        // Bracketed list numbers that are not ids, or that name another candidate than the title after them.
        ("[1] Alien (1979)\n[2] Aliens (1986)", ["183", "176"], .partial),
        ("[7] Alien (1979)\n[98] The Silence of the Lambs\n[12] Crime", ["183", "98", "12"], .ok),
        ("Heat (1995) was good\nAlien (1979) Action Horror Sci-Fi Thriller", ["183"], .partial),
        (#"["The Usual Suspects (1995)", "the silence of the lambs"]"#, ["12", "98"], .partial),
    ]

    @Test(arguments: 0..<table.count)
    func messyAnswer(_ i: Int) {
        let (answer, named, status) = Self.table[i]
        let r = parser.parse(answer)
        let rest = Self.retriever.filter { !named.contains($0) }
        #expect(r.order == named + rest, "answer: \(answer)")
        #expect(r.recognized == named.count, "answer: \(answer)")
        #expect(r.status == status, "answer: \(answer)")
    }

    @Test func everyOrderIsAPermutationOfTheCandidates() {
        for (answer, _, _) in Self.table {
            #expect(parser.parse(answer).order.sorted() == Self.retriever.sorted())
        }
    }

    @Test func sharedTitleIsAmbiguousButIdsStillWork() {
        let p = AnswerParser(candidates: [
            CandidateItem(itemId: "a", text: "Heat (1995) Action"),
            CandidateItem(itemId: "b", text: "Heat (1986) Drama"),
        ], expected: 2)
        #expect(p.parse(#"["Heat"]"#).status == .failed)  // two candidates titled Heat: no guess
        #expect(p.parse(#"["Heat (1986)", "a"]"#).order == ["b", "a"])
    }

    @Test func normalizeFoldsCaseAccentsAndPunctuation() {
        #expect(AnswerParser.normalize("  Amélie, LE (2001)!! ") == "amelie le 2001")
        #expect(AnswerParser.textVariants("Toy Story (1995) Animation") == ["toy story 1995 animation", "toy story 1995", "toy story"])
        #expect(AnswerParser.textVariants("Usual Suspects, The (1995) Crime") == [
            "usual suspects the 1995 crime", "usual suspects the 1995", "usual suspects the", "the usual suspects 1995",
            "the usual suspects"])
    }
}
