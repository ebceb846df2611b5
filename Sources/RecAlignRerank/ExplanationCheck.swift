// ExplanationCheck: is an explanation grounded in the user's history, and does it name films not in the catalog?
import Foundation

/// What one explanation mentions.
public struct ExplanationFindings: Codable, Equatable, Sendable {
    /// Titles of the shown history that the text names (as shown in the prompt).
    public var historyTitles: [String]
    /// Genres of the shown history items that the text names.
    public var historyGenres: [String]
    /// Those of `historyGenres` the recommended item lacks: the prompt shows the item's genres, so naming one of
    /// them may echo the item rather than the history.
    public var historyOnlyGenres: [String]
    /// Title-like mentions found (quoted text, "Title (YEAR)"), as written.
    public var mentions: [String]
    /// The mentions that match no catalog title.
    public var hallucinated: [String]
    /// Names at least one history title or history genre.
    public var grounded: Bool { !historyTitles.isEmpty || !historyGenres.isEmpty }
    public var hallucinates: Bool { !hallucinated.isEmpty }
    enum CodingKeys: String, CodingKey {
        case historyTitles = "history_titles", historyGenres = "history_genres", historyOnlyGenres = "history_only_genres",
             mentions, hallucinated
    }
}

/// The two checks, deliberately simple (and so approximate):
///
/// * Grounded: the text names a title of the shown history or a genre of those items. Both sides are
///   normalised (`TitleText.normalise`: lower case, no year, no ", The" / leading article, punctuation as
///   spaces) and a title (or one of its alternative names, `TitleText.variants`) must occur as whole words, so "The Usual Suspects (1995)", "the usual suspects" and
///   "Usual Suspects, The" all name "Usual Suspects, The (1995)". A one-word title ("Heat", "Big") must also
///   be capitalised in the text, so "a big fan" does not name "Big (1988)". Genres match as whole words,
///   case-insensitively, with a few written forms each (`genreForms`: "sci-fi" / "science fiction",
///   "children's" / "children" / "kids", "romance" / "romantic", ...).
/// * Hallucinated: a title-like mention matches no catalog title. Mentions are text in double quotes
///   (straight or curly) that starts with a capital letter or digit (genre names excluded), and, outside
///   quotes, the run of capitalised words (joined by short lower-case words: of, the, and...) before a
///   "(YEAR)". A mention matches when, cut at its first "(YEAR)" (models copy the prompt's "Title (1997)
///   (Drama)"), its normalised form or that of a trailing run of its words ("Like Toy Story (1995)" -> "Toy
///   Story") is a normalised form of some catalog title (`TitleText.variants`, alternative names included),
///   or when it is whole words of a title the prompt showed ("The Langoliers" of the recommended "Stephen
///   King's The Langoliers"). The year is not compared. Real films outside the catalog (ml-100k ends in
///   1998) count as hallucinated: the explanation cites something the system does not hold.
public struct ExplanationCheck: Sendable {
    public let catalog: MovieCatalog

    public init(catalog: MovieCatalog) { self.catalog = catalog }

    /// Lower-case words allowed inside a title run ("Raiders of the Lost Ark").
    static let connectors: Set<String> = ["of", "the", "and", "a", "an", "in", "on", "to", "for", "with", "at", "from",
                                          "by", "&", "de", "la", "le", "du", "des", "les", "el", "il", "y", "vs.", "vs"]

    /// Written forms of a genre beyond its own name (lower case).
    static let genreForms: [String: [String]] = [
        "sci-fi": ["sci-fi", "sci fi", "scifi", "science fiction", "science-fiction"],
        "children's": ["children's", "childrens", "children", "kids", "family"],
        "film-noir": ["film-noir", "film noir", "noir"],
        "romance": ["romance", "romantic", "romances"],
        "comedy": ["comedy", "comedies", "comedic"],
        "drama": ["drama", "dramas", "dramatic"],
        "thriller": ["thriller", "thrillers"],
        "western": ["western", "westerns"],
        "musical": ["musical", "musicals"],
        "documentary": ["documentary", "documentaries"],
        "animation": ["animation", "animated"],
        "mystery": ["mystery", "mysteries"],
        "war": ["war"],
        "horror": ["horror"],
        "fantasy": ["fantasy"],
        "crime": ["crime"],
        "action": ["action"],
        "adventure": ["adventure", "adventures"],
    ]

    /// Checks `text` against the shown history (item rows, as in the prompt); `item` is the recommended item's
    /// row, whose title (or a part of it, "The Langoliers" of "Stephen King's The Langoliers") is no
    /// hallucination either.
    public func check(_ text: String, history: [Int], item: Int? = nil) -> ExplanationFindings {
        let norm = " " + TitleText.normalise(text) + " "
        var titles: [String] = []
        for r in history where catalog.names(r, normalised: norm, text: text) && !titles.contains(catalog.titles[r]) {
            titles.append(catalog.titles[r])
        }
        let lower = " " + ExplanationCheck.wordsOnly(text.lowercased()) + " "
        var genres: [String] = []
        for g in history.flatMap({ catalog.genres[$0] }) where !genres.contains(g) {
            let forms = ExplanationCheck.genreForms[g.lowercased()] ?? [g.lowercased()]
            if forms.contains(where: { lower.contains(" " + ExplanationCheck.wordsOnly($0) + " ") }) { genres.append(g) }
        }
        let mentions = ExplanationCheck.mentions(in: text).filter { !isGenre($0) }
        let shown = (history + (item.map { [$0] } ?? [])).flatMap { TitleText.variants(catalog.titles[$0]) }.map { " \($0) " }
        let hallucinated = mentions.filter { m in
            if matchesCatalog(m) { return false }
            // Part of a title the prompt showed, as whole words.
            let n = TitleText.normalise(ExplanationCheck.beforeFirstYear(m))
            return n.isEmpty || !shown.contains { $0.contains(" \(n) ") }
        }
        let itemGenres = Set(item.map { catalog.genres[$0] } ?? [])
        return ExplanationFindings(historyTitles: titles, historyGenres: genres, historyOnlyGenres: genres.filter { !itemGenres.contains($0) },
                                   mentions: mentions, hallucinated: hallucinated)
    }

    func isGenre(_ s: String) -> Bool {
        let l = s.lowercased().trimmingCharacters(in: .whitespaces)
        return ExplanationCheck.genreForms.values.contains { $0.contains(l) }
    }

    /// True when the mention, or a trailing run of its words, is a catalog title. What follows a "(YEAR)" in
    /// the mention is dropped first: models copy the prompt's "Title (1997) (Drama)".
    func matchesCatalog(_ mention: String) -> Bool {
        let words = TitleText.normalise(ExplanationCheck.beforeFirstYear(mention)).split(separator: " ")
        guard !words.isEmpty else { return true }
        for start in 0..<words.count where catalog.contains(normalised: words[start...].joined(separator: " ")) { return true }
        return false
    }

    /// Lower-cased text with every character other than letters, digits and apostrophes a space (for genre
    /// matching, where "children's" keeps its apostrophe).
    static func wordsOnly(_ s: String) -> String {
        collapseWhitespaceKeepingApostrophes(String(s.unicodeScalars.map { c -> Character in
            CharacterSet.alphanumerics.contains(c) || c == "'" ? Character(c) : " "
        }))
    }

    static func collapseWhitespaceKeepingApostrophes(_ s: String) -> String {
        s.split(separator: " ").joined(separator: " ")
    }

    /// Title-like mentions in order of appearance, without repeats: quoted spans, then "Title (YEAR)" runs
    /// outside the quoted spans.
    public static func mentions(in text: String) -> [String] {
        var out: [String] = []
        func add(_ s: String) {
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ".,;:!?")))
            guard t.count >= 2, t.count <= 100, let c = t.first, c.isUppercase || c.isNumber else { return }
            if !out.contains(t) { out.append(t) }
        }
        let (spans, rest) = quoted(text)
        for q in spans { add(q) }
        for y in beforeYear(rest) { add(y) }
        return out
    }

    /// The text before the first "(YEAR)" (a year 1870-2099), or all of it.
    static func beforeFirstYear(_ s: String) -> String {
        let chars = Array(s)
        var i = 0
        while i + 5 < chars.count {
            if chars[i] == "(", chars[i + 5] == ")", let y = Int(String(chars[(i + 1)...(i + 4)])), (1870...2099).contains(y) {
                return String(chars[0..<i])
            }
            i += 1
        }
        return s
    }

    /// Spans between straight double quotes, and between “ and ”; and the text with each span (quotes
    /// included) replaced by " | ", which ends any "Title (YEAR)" run.
    static func quoted(_ text: String) -> (spans: [String], rest: String) {
        var out: [String] = []
        var rest = ""
        var open: Character? = nil
        var cur = ""
        for ch in text {
            if let o = open {
                if (o == "\"" && ch == "\"") || (o == "“" && ch == "”") { out.append(cur); open = nil; cur = ""; rest += " | " }
                else if ch == "\n" { rest += String(o) + cur + "\n"; open = nil; cur = "" }
                else { cur.append(ch) }
            } else if ch == "\"" || ch == "“" { open = ch } else { rest.append(ch) }
        }
        if let o = open { rest += String(o) + cur }
        return (out, rest)
    }

    /// True when a word ends a sentence: it ends in ".", "!", "?" or ";", and is not an abbreviation ("E.T.",
    /// "Mr.", "St."). Commas and colons stay inside a title run ("Usual Suspects, The", "Star Wars: ...").
    static func endsSentence(_ w: String) -> Bool {
        guard let last = w.last, ".!?;".contains(last) else { return false }
        if last != "." { return true }
        let body = w.dropLast()
        if body.contains(".") { return false }
        return !["mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "no"].contains(body.lowercased())
    }

    /// The capitalised run of words right before each "(YEAR)" (a year 1870-2099), leading connectors dropped.
    static func beforeYear(_ text: String) -> [String] {
        let chars = Array(text)
        var out: [String] = []
        var i = 0
        while i + 5 < chars.count {
            defer { i += 1 }
            guard chars[i] == "(", chars[i + 5] == ")", let y = Int(String(chars[(i + 1)...(i + 4)])), (1870...2099).contains(y) else { continue }
            // Words before the parenthesis, walking back while they look like part of a title.
            let before = String(chars[0..<i])
            var words = before.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            var run: [String] = []
            while let w = words.popLast() {
                // A sentence end, or a closing quote (the run started after a quoted span), ends the run.
                if !run.isEmpty && (endsSentence(w) || w.hasSuffix("\"") || w.hasSuffix("”")) { break }
                let bare = w.trimmingCharacters(in: CharacterSet(charactersIn: "\"“”*_"))
                guard let c = bare.first else { break }
                if c.isUppercase || c.isNumber || connectors.contains(bare.lowercased()) { run.insert(bare, at: 0) } else { break }
                if w.first == "\"" || w.first == "“" { break }
            }
            while let f = run.first, connectors.contains(f.lowercased()) { run.removeFirst() }
            if !run.isEmpty { out.append(run.joined(separator: " ")) }
        }
        return out
    }
}
