// ExplanationTask: one-sentence explanations of recommended items, grounded in the user's history, and their report.
import Foundation
import RecAlignMetrics

/// The prompt asking why a user may like a recommended item. The history is shown as titles only (most
/// recent last), so a genre the explanation names comes from the model, not from the prompt; the
/// recommended item is shown with its genres.
public struct ExplanationPrompt: Sendable {
    public init() {}

    public func messages(historyTitles: [String], item: String) -> [ChatMessage] {
        let hist = historyTitles.enumerated().map { "\($0.offset + 1). \"\($0.element)\"" }.joined(separator: "\n")
        return [
            ChatMessage(role: "system", content: "You are a movie recommender system that explains its recommendations "
                + "to users in one short sentence."),
            ChatMessage(role: "user", content: "The user recently watched these movies (oldest first):\n\(hist)\n\n"
                + "We recommend \"\(item)\" to this user. In one sentence, explain why the user may like it, "
                + "referring to the movies the user watched."),
        ]
    }
}

/// One explanation to generate: a user, one of their top recommended items, and the history shown.
public struct ExplanationCase: Sendable {
    public var userId: String
    public var itemId: String
    /// 1-based position of the item in the user's candidate list.
    public var rank: Int
    /// The item's catalog row and title.
    public var itemRow: Int
    public var title: String
    /// The shown history (catalog rows, oldest first).
    public var history: [Int]
    public var messages: [ChatMessage]

    /// The first `top` candidates of each record, with its last `historyLength` history items, as catalog rows.
    /// `lines[k]` is record k's line in `path`; an id the catalog lacks is refused naming file, line and id.
    public static func build(records: [CandidateRecord], lines: [Int], path: String, catalog: MovieCatalog,
                             top: Int, historyLength: Int, prompt: ExplanationPrompt = ExplanationPrompt()) throws -> [ExplanationCase] {
        var out: [ExplanationCase] = []
        for (k, r) in records.enumerated() {
            let line = k < lines.count ? lines[k] : k + 1
            func row(_ id: String, _ what: String) throws -> Int {
                guard let row = catalog.row(of: id) else {
                    throw RerankInputError.invalid(path: path, line: line, reason: "user \(r.userId): \(what) item_id '\(id)' is not in the corpus")
                }
                return row
            }
            let hist = try r.history.suffix(max(historyLength, 0)).map { try row($0.itemId, "history") }
            if hist.isEmpty {
                throw RerankInputError.invalid(path: path, line: line, reason: "user \(r.userId): no history to ground an explanation in")
            }
            for (i, c) in r.candidates.prefix(max(top, 0)).enumerated() {
                let item = try row(c.itemId, "candidate")
                out.append(ExplanationCase(userId: r.userId, itemId: c.itemId, rank: i + 1, itemRow: item, title: catalog.titles[item], history: hist,
                                           messages: prompt.messages(historyTitles: hist.map { catalog.titles[$0] },
                                                                     item: catalog.describe(item))))
            }
        }
        return out
    }
}

/// One line of the explanation JSONL.
public struct ExplanationLine: Codable, Equatable, Sendable {
    public var userId: String
    public var itemId: String
    public var rank: Int
    public var title: String
    /// The model's answer, trimmed (nil: the request failed).
    public var explanation: String?
    public var status: GenerationStatus
    public var error: String?
    public var grounded: Bool
    public var hallucinated: Bool
    public var findings: ExplanationFindings?
    enum CodingKeys: String, CodingKey {
        case userId = "user_id", itemId = "item_id", rank, title, explanation, status, error, grounded, hallucinated, findings
    }

    /// Checks an answer: empty text is a parse failure (neither grounded nor hallucinated).
    public init(_ c: ExplanationCase, _ g: GeneratedText, check: ExplanationCheck) {
        userId = c.userId; itemId = c.itemId; rank = c.rank; title = c.title; error = g.error
        let text = g.text?.trimmingCharacters(in: .whitespacesAndNewlines)
        explanation = text
        if let text, !text.isEmpty {
            let f = check.check(text, history: c.history, item: c.itemRow)
            findings = f; status = .ok; grounded = f.grounded; hallucinated = f.hallucinates
        } else {
            findings = nil; status = text == nil ? .transportFailure : .parseFailure; grounded = false; hallucinated = false
        }
    }
}

/// Shares of grounded and hallucinating explanations among the answered ones, with counts.
public struct ExplanationReport: Codable, Equatable, Sendable {
    public var explanations: Int
    /// Non-empty answers: the denominator of the shares.
    public var answered: Int
    public var empty: Int
    public var transportFailures: Int
    public var grounded: Int
    public var groundedByTitle: Int
    public var groundedByGenre: Int
    /// Naming a history genre the recommended item lacks (not an echo of the item's genres in the prompt).
    public var groundedByHistoryOnlyGenre: Int
    public var hallucinated: Int
    /// Title-like mentions found, and how many matched no catalog title.
    public var mentions: Int
    public var hallucinatedMentions: Int
    public var setup: [String]
    enum CodingKeys: String, CodingKey {
        case explanations, answered, empty, transportFailures = "transport_failures", grounded,
             groundedByTitle = "grounded_by_title", groundedByGenre = "grounded_by_genre",
             groundedByHistoryOnlyGenre = "grounded_by_history_only_genre", hallucinated, mentions,
             hallucinatedMentions = "hallucinated_mentions", setup
    }

    public init(lines: [ExplanationLine], setup: [String]) {
        explanations = lines.count
        let ok = lines.compactMap(\.findings)
        answered = ok.count
        empty = lines.filter { $0.status == .parseFailure }.count
        transportFailures = lines.filter { $0.status == .transportFailure }.count
        grounded = ok.filter(\.grounded).count
        groundedByTitle = ok.filter { !$0.historyTitles.isEmpty }.count
        groundedByGenre = ok.filter { !$0.historyGenres.isEmpty }.count
        groundedByHistoryOnlyGenre = ok.filter { !$0.historyOnlyGenres.isEmpty }.count
        hallucinated = ok.filter(\.hallucinates).count
        mentions = ok.reduce(0) { $0 + $1.mentions.count }
        hallucinatedMentions = ok.reduce(0) { $0 + $1.hallucinated.count }
        self.setup = setup
    }

    func share(_ n: Int) -> String {
        answered == 0 ? "n/a" : String(format: "%.3f", Double(n) / Double(answered))
    }

    public var table: String {
        var s = setup.map { $0 + "\n" }.joined()
        s += "\n| measure | count | share of answered |\n| --- | ---: | ---: |\n"
        s += "| grounded (a history title or genre) | \(grounded) | \(share(grounded)) |\n"
        s += "| names a history title | \(groundedByTitle) | \(share(groundedByTitle)) |\n"
        s += "| names a history genre | \(groundedByGenre) | \(share(groundedByGenre)) |\n"
        s += "| names a history genre the recommended item lacks | \(groundedByHistoryOnlyGenre) | \(share(groundedByHistoryOnlyGenre)) |\n"
        s += "| hallucinated (a title-like mention not in the catalog) | \(hallucinated) | \(share(hallucinated)) |\n"
        s += "\n\(explanations) explanations asked; \(answered) answered, \(empty) empty, \(transportFailures) failed requests; "
            + "\(mentions) title-like mentions, \(hallucinatedMentions) not in the catalog\n"
        return s
    }
}
