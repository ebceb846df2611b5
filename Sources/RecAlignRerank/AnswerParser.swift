// AnswerParser: maps a model's free-form or JSON answer back to candidate ids, retriever order as the rest.
import Foundation
import RecAlignMetrics

/// How much of the answer could be used.
public enum ParseStatus: String, Codable, Sendable {
    /// At least the requested number of distinct candidates were recognised.
    case ok
    /// Some, but fewer than requested, were recognised; the rest keep retriever order.
    case partial
    /// Nothing was recognised; the retriever's order is kept.
    case failed
}

/// The outcome of parsing one answer.
public struct ParsedRanking: Equatable, Sendable {
    /// Every candidate id exactly once: the recognised ones in the model's order, then the others in
    /// retriever order.
    public var order: [String]
    /// How many distinct candidates the model named.
    public var recognized: Int
    public var status: ParseStatus
}

/// Recognises candidates in an answer: JSON lists / objects (ids, titles, or objects with an id or
/// title field), Python-style lists, numbered or bulleted lines, and, failing those, mentions in prose.
/// Ids match exactly; texts match after normalisation (case, accents, punctuation), as the full text,
/// the `Title (Year)` part or the bare title. Duplicates are dropped, unknown names ignored.
public struct AnswerParser: Sendable {
    public let candidates: [CandidateItem]
    /// Items the model was asked for; fewer recognised gives `.partial`.
    public let expected: Int
    let ids: Set<String>
    /// Normalised text variants -> candidate ids (several when two candidates share a title).
    let byText: [String: [String]]
    /// (normalised variant, id), longest variant first: for prefix matching and prose scanning.
    let variants: [(String, String)]

    public init(candidates: [CandidateItem], expected: Int) {
        self.candidates = candidates
        self.expected = min(max(expected, 1), max(candidates.count, 1))
        ids = Set(candidates.map(\.itemId))
        var byText: [String: [String]] = [:]
        var variants: [(String, String)] = []
        for c in candidates {
            for v in AnswerParser.textVariants(c.text) where !v.isEmpty {
                if !(byText[v]?.contains(c.itemId) ?? false) { byText[v, default: []].append(c.itemId) }
                variants.append((v, c.itemId))
            }
        }
        self.byText = byText
        self.variants = variants.sorted { $0.0.count > $1.0.count }
    }

    /// Parses an answer (never throws: unusable text gives `.failed` and the retriever's order).
    public func parse(_ answer: String) -> ParsedRanking {
        // Every reading is tried; the one naming the most distinct candidates wins (earlier on ties).
        let readings: [() -> [String]] = [
            { (AnswerParser.jsonTokens(answer) ?? []).compactMap(resolve) },
            { (AnswerParser.bracketListTokens(answer) ?? []).compactMap(resolve) },
            { lineTokens(answer) },
            { scan(answer) },
        ]
        var best = complete([])
        for read in readings {
            let r = complete(read())
            if r.recognized > best.recognized { best = r }
            if best.recognized >= candidates.count { break }
        }
        return best
    }

    /// Keeps the first occurrence of each known id, then appends the missing ones in retriever order.
    public func complete(_ named: [String]) -> ParsedRanking {
        var seen = Set<String>()
        var order: [String] = []
        for id in named where ids.contains(id) && !seen.contains(id) { seen.insert(id); order.append(id) }
        let recognized = order.count
        for c in candidates where !seen.contains(c.itemId) { seen.insert(c.itemId); order.append(c.itemId) }
        let status: ParseStatus = recognized == 0 ? .failed : (recognized >= expected ? .ok : .partial)
        return ParsedRanking(order: order, recognized: recognized, status: status)
    }

    // MARK: token -> id

    /// The candidate id a single token names, if any.
    func resolve(_ token: String) -> String? {
        var t = token.trimmingCharacters(in: .whitespacesAndNewlines)
        t = t.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`*"))
        t = t.trimmingCharacters(in: .whitespacesAndNewlines)
        while let last = t.last, ".,;:!".contains(last) { t.removeLast() }
        if t.isEmpty { return nil }
        if ids.contains(t) { return t }
        let n = AnswerParser.normalize(t)
        guard let lead = AnswerParser.leadingId(t) else { return resolveText(n) }
        // "[12] Toy Story", "#12 ...", "id: 12", "12: Toy Story": the id, unless the text after it names
        // another candidate (then the id was a list number: "[1] Alien (1979)").
        let afterText = resolveText(AnswerParser.normalize(lead.rest))
        if lead.explicit {
            if ids.contains(lead.id) { return afterText ?? lead.id }
            return afterText
        }
        // The whole token is a text first ("12 Angry Men (1957)" is a title, not id 12).
        if let whole = resolveText(n) { return whole }
        if ids.contains(lead.id) { return afterText ?? lead.id }
        return afterText
    }

    /// The candidate a normalised text names: a whole variant, a variant followed by more words, or
    /// the beginning (4+ characters) of exactly one candidate's text. Ambiguous titles name nothing.
    func resolveText(_ n: String) -> String? {
        if n.isEmpty { return nil }
        if let hit = byText[n] { return hit.count == 1 ? hit[0] : nil }
        // "Toy Story (1995) - a family classic".
        for (v, id) in variants where v.count >= 3 && n.hasPrefix(v + " ") && byText[v]?.count == 1 { return id }
        // "Toy Story (19".
        if n.count >= 4 {
            let hits = Set(variants.filter { $0.0.hasPrefix(n) }.map(\.1))
            if hits.count == 1 { return hits.first }
        }
        return nil
    }

    /// An id written before a title or with a marker: `[12]`, `(12)`, `#12`, `id 12`, `item: 12`, `12:`.
    /// `explicit` is true when a marker (brackets, `#`, an `id`/`item` prefix) says it is an id.
    static func leadingId(_ t: String) -> (id: String, explicit: Bool, rest: String)? {
        var s = Substring(t)
        var explicit = false
        for prefix in ["item id", "item_id", "itemid", "item", "id"] {
            if s.lowercased().hasPrefix(prefix) {
                let rest = s.dropFirst(prefix.count)
                if let f = rest.first, f == ":" || f == " " || f == "=" || f == "#" {
                    s = rest.drop { $0 == ":" || $0 == " " || $0 == "=" }
                    explicit = true
                }
                break
            }
        }
        if let f = s.first, f == "[" || f == "(" || f == "<" {
            let close: Character = f == "[" ? "]" : (f == "(" ? ")" : ">")
            guard let end = s.firstIndex(of: close) else { return nil }
            let inner = String(s[s.index(after: s.startIndex)..<end]).trimmingCharacters(in: CharacterSet(charactersIn: " #\"'"))
            return (inner, true, String(s[s.index(after: end)...]))
        }
        if s.first == "#" { s = s.dropFirst(); explicit = true }
        let word = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        if word.isEmpty { return nil }
        let rest = s.dropFirst(word.count)
        if rest.isEmpty { return (String(word), explicit, "") }
        if let f = rest.first, [":", " ", ")", "]", "-", "–", ",", "."].contains(f) { return (String(word), explicit, String(rest)) }
        return nil
    }

    // MARK: strategies

    /// Tokens of the first JSON value in the answer (whole text, code fence, `[...]` or `{...}` span).
    static func jsonTokens(_ answer: String) -> [String]? {
        var spans: [String] = [answer.trimmingCharacters(in: .whitespacesAndNewlines)]
        if let a = answer.firstIndex(of: "["), let b = answer.lastIndex(of: "]"), a < b { spans.append(String(answer[a...b])) }
        if let a = answer.firstIndex(of: "{"), let b = answer.lastIndex(of: "}"), a < b { spans.append(String(answer[a...b])) }
        for s in spans {
            guard let data = s.data(using: .utf8),
                  let obj = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            else { continue }
            let tokens = flatten(obj)
            if !tokens.isEmpty { return tokens }
        }
        return nil
    }

    /// Strings of a decoded JSON value: array elements, the list inside an object, or an id / title field.
    static func flatten(_ obj: Any) -> [String] {
        if let s = obj as? String { return [s] }
        if let n = obj as? NSNumber {
            let d = n.doubleValue
            return [d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"]
        }
        if let a = obj as? [Any] { return a.flatMap(flatten) }
        if let d = obj as? [String: Any] {
            let lower = Dictionary(d.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            for key in ["ranking", "ranked", "reranked", "recommendations", "recommended", "items", "ids",
                        "result", "results", "answer", "candidates", "top"] {
                if let v = lower[key], v is [Any] { return flatten(v) }
            }
            for key in ["id", "item_id", "itemid", "item", "title", "name"] {
                if let v = lower[key], !(v is [Any]), !(v is [String: Any]) { return flatten(v) }
            }
            // {"1": "12", "2": "7"}: values ordered by their numeric key.
            let numbered = d.compactMap { k, v in Int(k).map { ($0, v) } }
            if !numbered.isEmpty, numbered.count == d.count {
                return numbered.sorted { $0.0 < $1.0 }.flatMap { flatten($0.1) }
            }
            for key in d.keys.sorted() { if let v = d[key] as? [Any] { return flatten(v) } }
        }
        return []
    }

    /// A Python-style list (`['Heat (1995)', 'Alien (1979)']`): elements split on commas outside quotes.
    static func bracketListTokens(_ answer: String) -> [String]? {
        guard let a = answer.firstIndex(of: "[") else { return nil }
        var tokens: [String] = []
        var cur = ""
        var quote: Character?
        var closed = false
        for ch in answer[answer.index(after: a)...] {
            if let q = quote {
                if ch == q { quote = nil } else { cur.append(ch) }
            } else if ch == "'" || ch == "\"" {
                if cur.trimmingCharacters(in: .whitespaces).isEmpty { quote = ch; cur = "" } else { cur.append(ch) }
            } else if ch == "," {
                tokens.append(cur); cur = ""
            } else if ch == "]" {
                closed = true
                break
            } else {
                cur.append(ch)
            }
        }
        guard closed else { return nil }
        tokens.append(cur)
        let out = tokens.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return out.isEmpty ? nil : out
    }

    /// One candidate per line (list markers stripped); a line that names none is tried split on `,`/`;`.
    func lineTokens(_ answer: String) -> [String] {
        var out: [String] = []
        for raw in answer.split(whereSeparator: \.isNewline) {
            let line = AnswerParser.stripListMarker(String(raw))
            if line.isEmpty { continue }
            if let id = resolve(line) { out.append(id); continue }
            for part in line.split(whereSeparator: { $0 == "," || $0 == ";" }) {
                if let id = resolve(String(part)) { out.append(id) }
            }
        }
        return out
    }

    /// Drops `1.`, `2)`, `-`, `*`, `•` and `Rank 3:` style prefixes.
    static func stripListMarker(_ line: String) -> String {
        var s = Substring(line.trimmingCharacters(in: .whitespaces))
        if s.lowercased().hasPrefix("rank") {
            let rest = s.dropFirst(4).drop { $0 == " " }
            let digits = rest.prefix { $0.isNumber }
            if !digits.isEmpty { s = rest.dropFirst(digits.count).drop { $0 == ":" || $0 == "." || $0 == " " } }
        }
        if let f = s.first, "-*•".contains(f) { s = s.dropFirst() }
        let digits = s.prefix { $0.isNumber }
        if !digits.isEmpty, digits.count <= 3 {
            let rest = s.dropFirst(digits.count)
            if let f = rest.first, f == "." || f == ")", rest.dropFirst().first?.isWhitespace ?? false {
                s = rest.dropFirst()
            }
        }
        return s.trimmingCharacters(in: .whitespaces)
    }

    /// Mentions in prose, in order of first appearance: `[id]` markers and candidate titles.
    func scan(_ answer: String) -> [String] {
        var hits: [(Int, Int, String)] = []  // (position, -length, id)
        // Bracketed ids in the raw text (positions in characters of the raw text, scaled like the scan below).
        let raw = Array(answer)
        var i = 0
        while i < raw.count {
            if raw[i] == "[", let end = raw[(i + 1)...].firstIndex(of: "]"), end - i <= 40 {
                let inner = String(raw[(i + 1)..<end]).trimmingCharacters(in: .whitespaces)
                if ids.contains(inner) { hits.append((i, -inner.count - 2, inner)) }
            }
            i += 1
        }
        if hits.isEmpty {
            let norm = " " + AnswerParser.normalize(answer) + " "
            for (v, id) in variants where v.count >= 3 && byText[v]?.count == 1 {
                if let r = norm.range(of: " " + v + " ") {
                    hits.append((norm.distance(from: norm.startIndex, to: r.lowerBound), -v.count, id))
                }
            }
        }
        hits.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        return hits.map(\.2)
    }

    // MARK: text normalisation

    /// Lower-case, accents folded, every non-alphanumeric run replaced by one space, trimmed.
    public static func normalize(_ s: String) -> String {
        let folded = s.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
        var out = ""
        var space = false
        for ch in folded {
            if ch.isLetter || ch.isNumber {
                if space && !out.isEmpty { out.append(" ") }
                out.append(ch); space = false
            } else { space = true }
        }
        return out
    }

    /// The normalised full text, its `Title (Year)` part and its bare title (for `"{title} ({year}) {genres}"`).
    static func textVariants(_ text: String) -> [String] {
        var out = [normalize(text)]
        let chars = Array(text)
        // First "(dddd)" group marks the end of the title.
        var i = 0
        while i + 5 < chars.count {
            if chars[i] == "(", chars[i + 5] == ")", chars[(i + 1)...(i + 4)].allSatisfy(\.isNumber) {
                let title = String(chars[0..<i]).trimmingCharacters(in: .whitespaces)
                let year = String(chars[i...(i + 5)])
                out.append(normalize(title + " " + year))
                out.append(normalize(title))
                // "Silence of the Lambs, The" is also written "The Silence of the Lambs".
                for article in ["The", "A", "An", "Les", "La", "Le", "L'", "Il", "Das", "Der", "Die"] {
                    if title.hasSuffix(", " + article) {
                        let front = article + " " + title.dropLast(article.count + 2)
                        out.append(normalize(front + " " + year))
                        out.append(normalize(front))
                    }
                }
                break
            }
            i += 1
        }
        var seen = Set<String>()
        return out.filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}
