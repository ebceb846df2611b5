// ExplanationTests: title normalisation, grounding and hallucination detection, explanation cases and report.
import Foundation
import Testing
import RecAlignMetrics
@testable import RecAlignRerank

@Suite struct ExplanationTests {
    static let catalog = MovieCatalog(
        itemIds: (1...10).map(String.init),
        titles: ["Toy Story (1995)", "Usual Suspects, The (1995)", "Heat (1995)", "Seven (Se7en) (1995)",
                 "City of Lost Children, The (Cité des enfants perdus, La) (1995)", "E.T. the Extra-Terrestrial (1982)",
                 "Star Wars (1977)", "Big (1988)", "Fargo (1996)", "Stephen King's The Langoliers (1995)"],
        genres: [["Animation", "Children's", "Comedy"], ["Crime", "Thriller"], ["Action", "Crime", "Thriller"], ["Crime", "Thriller"],
                 ["Adventure", "Sci-Fi"], ["Children's", "Drama", "Fantasy", "Sci-Fi"], ["Action", "Adventure", "Romance", "Sci-Fi", "War"],
                 ["Comedy", "Fantasy"], ["Crime", "Drama", "Thriller"], ["Horror"]])
    static let check = ExplanationCheck(catalog: catalog)

    @Test func titlesNormaliseWithAndWithoutYearAndArticle() {
        #expect(TitleText.normalise("Usual Suspects, The (1995)") == "usual suspects")
        #expect(TitleText.normalise("the Usual Suspects") == "usual suspects")
        #expect(TitleText.normalise("Schindler's List (1993)") == "schindlers list")
        #expect(TitleText.normalise("Misérables, Les") == "misérables")
        #expect(TitleText.variants("Seven (Se7en) (1995)") == ["se7en", "seven", "seven se7en"])
        #expect(TitleText.variants("City of Lost Children, The (Cité des enfants perdus, La) (1995)")
                    .contains("cité des enfants perdus"))
        #expect(ExplanationTests.catalog.contains(normalised: "city of lost children"))
    }

    @Test func groundedByAHistoryTitleInAnyForm() {
        let c = ExplanationTests.check
        let a = c.check("Since you enjoyed The Usual Suspects, you will love this twisty film.", history: [1, 2])
        #expect(a.historyTitles == ["Usual Suspects, The (1995)"] && a.grounded)
        #expect(a.mentions.isEmpty && !a.hallucinates)
        #expect(c.check("Like \"Toy Story (1995)\", it is warm.", history: [0]).historyTitles == ["Toy Story (1995)"])
        #expect(c.check("Fans of Se7en will like it.", history: [3]).historyTitles == ["Seven (Se7en) (1995)"])
        // A one-word title must be capitalised: "a big fan" does not name Big (1988); "Big" does.
        #expect(c.check("You are a big fan of clever stories.", history: [7]).historyTitles.isEmpty)
        #expect(c.check("Like Big, it is about growing up.", history: [7]).historyTitles == ["Big (1988)"])
        // A title of a film outside the shown history does not ground the explanation.
        #expect(!c.check("It is as gripping as Fargo.", history: [0]).grounded)
    }

    @Test func groundedByAHistoryGenre() {
        let c = ExplanationTests.check
        let a = c.check("You like crime thrillers, and this one is tense.", history: [2], item: 4)
        #expect(a.historyGenres == ["Crime", "Thriller"] && a.historyTitles.isEmpty && a.grounded)
        #expect(a.historyOnlyGenres == ["Crime", "Thriller"])     // City of Lost Children: Adventure, Sci-Fi
        #expect(c.check("You like crime thrillers.", history: [2], item: 8).historyOnlyGenres.isEmpty)  // Fargo is both
        #expect(c.check("A science fiction adventure for you.", history: [4]).historyGenres == ["Adventure", "Sci-Fi"])
        #expect(c.check("Great for kids and families.", history: [0]).historyGenres == ["Children's"])
        // "Wars" is not the genre War; a genre of an item not in the history does not count.
        #expect(c.check("More Star Wars action!", history: [6]).historyGenres == ["Action"])
        #expect(c.check("A fine comedy.", history: [2]).historyGenres.isEmpty)
    }

    @Test func hallucinatedTitlesAreMentionsNotInTheCatalog() {
        let c = ExplanationTests.check
        let a = c.check("If you liked Toy Story (1995), you will enjoy \"The Matrix\" and Inception (2010).", history: [0])
        #expect(a.mentions == ["The Matrix", "Toy Story", "Inception"])
        #expect(a.hallucinated == ["The Matrix", "Inception"] && a.hallucinates && a.grounded)
        // A sentence-initial word before the title, an abbreviation inside it, and alternative names still match.
        #expect(!c.check("Like Toy Story (1995), it is fun.", history: [0]).hallucinates)
        #expect(c.check("You loved E.T. the Extra-Terrestrial (1982).", history: [5]).mentions == ["E.T. the Extra-Terrestrial"])
        #expect(!c.check("You loved E.T. the Extra-Terrestrial (1982).", history: [5]).hallucinates)
        #expect(!c.check("As in “The City of Lost Children” and \"Se7en\".", history: [4]).hallucinates)
        // Quoted text that is not a title: lower-case phrases and genre names are not mentions.
        #expect(c.check("A \"feel-good\" \"Comedy\" for you.", history: [0]).mentions.isEmpty)
        #expect(c.check("A great \"Pulp Fiction\" style crime story.", history: [2]).hallucinated == ["Pulp Fiction"])
        // The prompt's "Title (YEAR) (Genres)" copied back is the title; a year inside quotes is not a second mention.
        let copied = c.check("You may like \"Fargo (1996) (Crime, Drama, Thriller)\".", history: [0], item: 8)
        #expect(copied.mentions == ["Fargo (1996) (Crime, Drama, Thriller)"] && !copied.hallucinates)
        // Part of a title the prompt showed is no hallucination; elsewhere it is.
        #expect(!c.check("You may enjoy \"The Langoliers\".", history: [0], item: 9).hallucinates)
        #expect(c.check("You may enjoy \"The Langoliers\".", history: [0]).hallucinated == ["The Langoliers"])
    }

    @Test func casesLinesAndReport() throws {
        let rec = CandidateRecord(userId: "u", history: [CandidateItem(itemId: "9", text: "x"), CandidateItem(itemId: "3", text: "x"),
                                                         CandidateItem(itemId: "1", text: "x")],
                                  candidates: [CandidateItem(itemId: "7", text: "x"), CandidateItem(itemId: "5", text: "x"),
                                               CandidateItem(itemId: "2", text: "x")])
        let cases = try ExplanationCase.build(records: [rec], lines: [4], path: "c.jsonl", catalog: ExplanationTests.catalog,
                                              top: 2, historyLength: 2)
        #expect(cases.map(\.itemId) == ["7", "5"] && cases.map(\.rank) == [1, 2] && cases.map(\.itemRow) == [6, 4])
        #expect(cases[0].history == [2, 0])                      // the last two history items: Heat, Toy Story
        let prompt = cases[0].messages[1].content
        #expect(prompt.contains("1. \"Heat (1995)\"\n2. \"Toy Story (1995)\""))
        #expect(prompt.contains("We recommend \"Star Wars (1977) (Action, Adventure, Romance, Sci-Fi, War)\""))
        #expect(!prompt.contains("Fargo"))
        // An id the corpus lacks is refused with the file and line.
        var bad = rec
        bad.candidates[0].itemId = "404"
        #expect(throws: RerankInputError.invalid(path: "c.jsonl", line: 4, reason: "user u: candidate item_id '404' is not in the corpus")) {
            try ExplanationCase.build(records: [bad], lines: [4], path: "c.jsonl", catalog: ExplanationTests.catalog, top: 1, historyLength: 2)
        }

        let check = ExplanationTests.check
        let lines = [
            ExplanationLine(cases[0], GeneratedText(text: " Like Heat, it is full of action. "), check: check),
            ExplanationLine(cases[1], GeneratedText(text: "You will love \"Inception\"."), check: check),
            ExplanationLine(cases[1], GeneratedText(text: "  "), check: check),
            ExplanationLine(cases[1], GeneratedText(text: nil, error: "timeout"), check: check),
        ]
        #expect(lines[0].explanation == "Like Heat, it is full of action." && lines[0].grounded && !lines[0].hallucinated)
        #expect(lines[0].findings?.historyGenres == ["Action"])
        #expect(lines[0].findings?.historyOnlyGenres == [])        // Star Wars is an action film too
        #expect(!lines[1].grounded && lines[1].hallucinated)
        #expect(lines[2].status == .parseFailure && lines[3].status == .transportFailure && lines[3].findings == nil)
        let r = ExplanationReport(lines: lines, setup: [])
        #expect(r.explanations == 4 && r.answered == 2 && r.empty == 1 && r.transportFailures == 1)
        #expect(r.grounded == 1 && r.groundedByTitle == 1 && r.groundedByGenre == 1 && r.groundedByHistoryOnlyGenre == 0 && r.hallucinated == 1)
        #expect(r.mentions == 1 && r.hallucinatedMentions == 1)
        #expect(r.table.contains("| grounded (a history title or genre) | 1 | 0.500 |"))
    }
}
