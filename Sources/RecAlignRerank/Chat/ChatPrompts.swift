// ChatPrompts: the conversation's three prompts (rerank, explain the list, why one item) within a context budget.
import Foundation
import RecAlignMetrics

/// Builds the messages of a chat turn: a system message, the user's recent history, as many of the latest
/// dialogue turns as fit the budget (oldest dropped first, whole turns), then the turn's question. Token counts
/// are estimated as characters / 3.5 (English text under the Qwen and SmolLM tokenizers is 3.5 to 4.5
/// characters a token), so the estimate errs on the long side.
public struct ChatPrompts: Sendable {
    public let catalog: MovieCatalog
    /// History items shown (the most recent).
    public var historyShown = 10
    /// Estimated prompt tokens allowed, the answer's excluded.
    public var contextTokens = 3000

    public init(catalog: MovieCatalog, historyShown: Int = 10, contextTokens: Int = 3000) {
        self.catalog = catalog; self.historyShown = historyShown; self.contextTokens = contextTokens
    }

    static let system = """
    You are a film recommender in a conversation with one user. You only recommend films from the candidate \
    list you are given, and you never mention a film that is not in the user's history or the candidates.
    """

    public static func estimatedTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(0) { $0 + Int((Double($1.content.count) / 3.5).rounded(.up)) + 4 }
    }

    /// The rows of the history the prompts show (the most recent `historyShown`).
    public func shownHistory(_ session: ChatSession) -> [Int] { Array(session.history.suffix(historyShown)) }

    /// The ranking question over `candidates` (item rows in retriever order): the answer is a JSON list of
    /// `count` of their ids.
    public func rerank(_ session: ChatSession, candidates: [Int], count: Int) -> [ChatMessage] {
        let list = candidates.map { "\(catalog.itemIds[$0]): \(catalog.describe($0))" }.joined(separator: "\n")
        let ask = session.request.map { "My request: \($0)\n" } ?? "What should I watch next?\n"
        let q = ask + "Candidates (id: title):\n\(list)\n"
            + "Pick the \(count) candidates that fit my request and my taste best, best first. "
            + "Answer with a JSON list of their ids only."
        return assemble(session, question: q)
    }

    /// The explanation of a list just chosen: one numbered line per item.
    public func explainList(_ session: ChatSession, picks: [Int]) -> [ChatMessage] {
        let list = picks.enumerated().map { "\($0.offset + 1). \(catalog.describe($0.element))" }.joined(separator: "\n")
        let ask = session.request.map { " and my request (\($0))" } ?? ""
        let q = "You recommend, in this order:\n\(list)\n"
            + "For each, write one line that starts with its number and tells me, in one short sentence addressed "
            + "to me as \"you\", why it fits the films I watched\(ask). Do not name any other film."
        return assemble(session, question: q)
    }

    /// "Why X?": two sentences tying one item to the history.
    public func why(_ session: ChatSession, row: Int) -> [ChatMessage] {
        let q = "Why would I like \(catalog.describe(row))? Answer me (as \"you\") in at most two sentences, naming "
            + "the films I watched that it resembles. Do not name any other film."
        return assemble(session, question: q)
    }

    /// System, history, the latest dialogue turns that fit, the question.
    func assemble(_ session: ChatSession, question: String) -> [ChatMessage] {
        let titles = shownHistory(session).map { "- \(catalog.describe($0))" }.joined(separator: "\n")
        let head = [ChatMessage(role: "system", content: ChatPrompts.system),
                    ChatMessage(role: "user", content: "Films I watched, oldest first:\n\(titles)"),
                    ChatMessage(role: "assistant", content: "Noted. What are you in the mood for?")]
        let tail = [ChatMessage(role: "user", content: question)]
        // The dialogue's last user line is the current request, which the question repeats: leave it out.
        var turns = session.dialogue
        if turns.last?.role == "user" { turns.removeLast() }
        var kept: [ChatMessage] = []
        var used = ChatPrompts.estimatedTokens(head + tail)
        // Whole exchanges, newest first, while they fit.
        var i = turns.count
        while i > 0 {
            let start = turns[i - 1].role == "assistant" && i >= 2 ? i - 2 : i - 1
            let exchange = Array(turns[start..<i])
            let cost = ChatPrompts.estimatedTokens(exchange)
            if used + cost > contextTokens { break }
            kept.insert(contentsOf: exchange, at: 0)
            used += cost
            i = start
        }
        // Roles must alternate after the head's assistant line: a leading assistant turn is dropped.
        while kept.first?.role == "assistant" { kept.removeFirst() }
        return head + kept + tail
    }
}
