// PointwiseScorer: asks once per candidate "will the user watch X next?" and ranks by log P(Yes) - log P(No).
import Foundation
import RecAlignMetrics

/// How the LLM orders a user's candidates.
public enum RerankMode: String, CaseIterable, Sendable {
    /// One prompt listing the candidates; the answer is a list of ids (`Reranker` with a `PromptBuilder`).
    case listwise
    /// One Yes/No question per candidate, ranked by the answer token's log-probabilities (`PointwiseScorer`).
    case pointwise
}

/// Pointwise reranking from token log-probabilities: unlike a listwise answer, every shown candidate gets a
/// graded score (no parse can fail half-way, no id can be repeated), which a fusion with the retriever can
/// weigh. A user's questions share the prompt up to the candidate, so with one request in flight per user the
/// server's prompt cache (llama.cpp `cache_prompt`, on by default) evaluates the history once per user.
public struct PointwiseScorer: Sendable {
    public let template: PromptTemplate
    public let client: TokenProbing
    /// Candidates asked about (the retriever's first K); the rest keep retriever order after them.
    public let topK: Int
    /// Most recent history items shown.
    public let historyLength: Int
    /// `top_logprobs` requested (Yes and No must be among them to be read).
    public let topLogprobs: Int

    public init(template: PromptTemplate = DefaultTemplates.pointwise, client: TokenProbing, topK: Int = 20,
                historyLength: Int = 10, topLogprobs: Int = 10) {
        self.template = template; self.client = client; self.topK = max(topK, 0)
        self.historyLength = max(historyLength, 0); self.topLogprobs = topLogprobs
    }

    /// The messages asking about one candidate of a record.
    public func messages(for record: CandidateRecord, candidate: CandidateItem) -> [ChatMessage] {
        let shown = Array(record.candidates.prefix(topK))
        var values = PromptBuilder.userValues(record: record, shown: shown, n: shown.count, historyLength: historyLength)
        values["candidate"] = candidate.text
        values["candidate_id"] = candidate.itemId
        values["demonstrations"] = ""
        var out: [ChatMessage] = []
        let system = PromptTemplate.render(template.system, values)
        if !system.isEmpty { out.append(ChatMessage(role: "system", content: system)) }
        out.append(ChatMessage(role: "user", content: PromptTemplate.render(template.user, values)))
        return out
    }

    /// Scores the shown candidates one after another (so they hit the same server slot's cache) and orders
    /// them by score; candidates without a Yes or No among the top tokens follow the scored ones in retriever
    /// order. A request that fails after the client's retries leaves the whole user in retriever order.
    public func rerank(_ record: CandidateRecord) async -> RerankOutcome {
        let shown = Array(record.candidates.prefix(topK))
        let rest = record.candidates.dropFirst(shown.count).map(\.itemId)
        let start = Date()
        var scores: [String: Double] = [:]
        var attempts = 0
        for c in shown {
            do {
                let (top, n) = try await client.firstTokenLogProbs(messages: messages(for: record, candidate: c), top: topLogprobs)
                attempts += n
                if let s = YesNoScore.score(top) { scores[c.itemId] = s }
            } catch {
                return RerankOutcome(userId: record.userId, order: record.candidates.map(\.itemId),
                                     status: .transportFailure, recognized: scores.count, answer: nil,
                                     error: "\(error)", seconds: Date().timeIntervalSince(start), attempts: attempts + 1)
            }
        }
        let order = PointwiseScorer.order(shown.map(\.itemId), scores: scores) + rest
        let status: RerankStatus = shown.isEmpty || scores.count == shown.count ? .ok : (scores.isEmpty ? .parseFailure : .partial)
        return RerankOutcome(userId: record.userId, order: order, status: status, recognized: scores.count,
                             answer: nil, error: nil, seconds: Date().timeIntervalSince(start), attempts: attempts,
                             scores: scores)
    }

    /// `ids` by descending score (stable: ties keep their order); ids without a score after, in their order.
    public static func order(_ ids: [String], scores: [String: Double]) -> [String] {
        let scored = ids.enumerated().filter { scores[$0.element] != nil }
            .sorted { (a, b) in
                let sa = scores[a.element]!, sb = scores[b.element]!
                return sa != sb ? sa > sb : a.offset < b.offset
            }.map(\.element)
        return scored + ids.filter { scores[$0] == nil }
    }
}
