// MovieCatalog: each item's display title and genres, and the normalised title forms used to find titles in text.
import Foundation
import RecAlignData

/// The titles and genres of a corpus's items, for prompts ("Toy Story (1995)") and for checking what an
/// answer mentions. ml-100k: `movie_title` + `release_year`, genres from `class`; other MovieLens files: the
/// genres in `genre` / `genres`; corpora without `movie_title`: the `title` field, else the item text.
public struct MovieCatalog: Sendable {
    public let itemIds: [String]
    /// "Title (year)" per item row (the year omitted when empty).
    public let titles: [String]
    /// Genres per item row, as written in the corpus (ml-100k's "unknown" left out).
    public let genres: [[String]]
    let rowOf: [String: Int]
    /// Every normalised form of every catalog title (`TitleText.variants`).
    let known: Set<String>

    /// `fallbackTexts`: one text per item row for items without a title field (e.g. `PreparedCorpus.itemTexts`).
    public init(dataset: Dataset, fallbackTexts: [String]) {
        let f = Set(dataset.itemFieldNames)
        let genreField = ["class", "genre", "genres", "categories"].first(where: f.contains)
        var titles: [String] = [], genres: [[String]] = []
        for r in 0..<dataset.itemCount {
            let name = collapseWhitespace(dataset.itemField("movie_title", row: r) ?? dataset.itemField("title", row: r) ?? "")
            let year = collapseWhitespace(dataset.itemField("release_year", row: r) ?? "")
            titles.append(name.isEmpty ? fallbackTexts[r] : (year.isEmpty ? name : "\(name) (\(year))"))
            genres.append((genreField.flatMap { dataset.itemField($0, row: r) } ?? "")
                .split(whereSeparator: { $0 == " " || $0 == "|" || $0 == "," }).map(String.init)
                .filter { $0.lowercased() != "unknown" })
        }
        self.init(itemIds: dataset.itemIds, titles: titles, genres: genres)
    }

    /// Memberwise (tests).
    public init(itemIds: [String], titles: [String], genres: [[String]]) {
        self.itemIds = itemIds; self.titles = titles; self.genres = genres
        var rowOf: [String: Int] = [:]
        for (r, id) in itemIds.enumerated() { rowOf[id] = r }
        self.rowOf = rowOf
        known = Set(titles.flatMap(TitleText.variants))
    }

    public var count: Int { itemIds.count }
    /// The row of an item id, nil when the catalog has no such item.
    public func row(of id: String) -> Int? { rowOf[id] }
    /// True when some catalog title has this normalised form.
    public func contains(normalised: String) -> Bool { known.contains(normalised) }
    /// True when `text` names the title of `row` (or one of its alternative names) as whole words; `normalised`
    /// is `" " + TitleText.normalise(text) + " "`. A one-word title must be capitalised in the text, so "a big
    /// fan" does not name "Big (1988)".
    public func names(_ row: Int, normalised: String, text: String) -> Bool {
        TitleText.variants(titles[row]).contains { form in
            normalised.contains(" " + form + " ") && (form.contains(" ") || TitleText.capitalisedWord(form, in: text))
        }
    }

    /// Rows (of `among`, else the whole catalog) whose titles `text` names, in row order; a title contained in a
    /// longer named one is left out ("Heat" when the text names "Heat and Dust").
    public func rowsNamed(in text: String, among: [Int]? = nil) -> [Int] {
        let norm = " " + TitleText.normalise(text) + " "
        let hits = (among ?? Array(0..<count)).filter { names($0, normalised: norm, text: text) }
        let forms = hits.map { " " + TitleText.normalise(titles[$0]) + " " }
        return hits.enumerated().filter { i, _ in
            !forms.enumerated().contains { j, f in j != i && f.count > forms[i].count && f.contains(forms[i]) }
        }.map(\.element)
    }

    /// "Title (year)" followed by the genres in parentheses when there are any: "Heat (1995) (Action, Crime)".
    public func describe(_ row: Int) -> String {
        genres[row].isEmpty ? titles[row] : "\(titles[row]) (\(genres[row].joined(separator: ", ")))"
    }
}

/// Title normalisation: how a title in a catalog and a title written in an answer are compared.
public enum TitleText {
    /// Articles MovieLens moves to the end ("Usual Suspects, The"), in several languages.
    static let articles: Set<String> = ["the", "a", "an", "les", "la", "le", "l'", "il", "el", "das", "der", "die",
                                        "los", "las", "lo", "i", "gli", "den", "det", "de"]

    /// Lower case, a trailing "(YEAR)" removed, a trailing ", Article" and a leading "Article " removed,
    /// apostrophes dropped, every other non-alphanumeric character a space, whitespace collapsed.
    /// "Usual Suspects, The (1995)" and "the Usual Suspects" both give "usual suspects".
    public static func normalise(_ s: String) -> String {
        var t = stripYear(collapseWhitespace(s)).lowercased()
        if let comma = t.lastIndex(of: ",") {
            let tail = t[t.index(after: comma)...].trimmingCharacters(in: .whitespaces)
            if articles.contains(tail) { t = String(t[..<comma]) }
        }
        var words = t.split(separator: " ").map(String.init)
        if words.count > 1, ["the", "a", "an"].contains(words[0]) { words.removeFirst() }
        t = words.joined(separator: " ")
        let cleaned = String(t.unicodeScalars.compactMap { c -> Character? in
            if c == "'" || c == "’" { return nil }
            return CharacterSet.alphanumerics.contains(c) ? Character(c) : " "
        })
        return collapseWhitespace(cleaned)
    }

    /// `s` without a trailing "(dddd)".
    static func stripYear(_ s: String) -> String {
        let split = MovieLensLoader.splitTitle(s)
        return split.year == nil ? s : split.title
    }

    /// True when `word` (normalised, lower case) occurs in `text` as a whole word starting with a capital letter.
    static func capitalisedWord(_ word: String, in text: String) -> Bool {
        for w in text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "'" }) {
            guard let first = w.first, first.isUppercase || first.isNumber else { continue }
            if w.lowercased().replacingOccurrences(of: "'", with: "") == word { return true }
        }
        return false
    }

    /// The normalised forms of a catalog title: the whole title, the title without its parenthesised
    /// alternative names ("Seven (Se7en) (1995)" -> "seven"), and each alternative alone ("se7en").
    public static func variants(_ title: String) -> [String] {
        let base = stripYear(collapseWhitespace(title))
        var out = [normalise(base)]
        var main = base
        var alts: [String] = []
        while main.hasSuffix(")"), let open = main.lastIndex(of: "(") {
            alts.append(String(main[main.index(after: open)..<main.index(before: main.endIndex)]))
            main = main[..<open].trimmingCharacters(in: .whitespaces)
        }
        out.append(normalise(main))
        out += alts.map(normalise)
        return Array(Set(out.filter { !$0.isEmpty })).sorted()
    }
}
