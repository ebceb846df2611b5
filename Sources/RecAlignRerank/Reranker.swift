// Reranker: prompts each user, asks the model under a concurrency limit, parses, falls back, counts.
import Foundation
import RecAlignMetrics

/// What happened to one user.
public enum RerankStatus: String, Codable, Sendable {
    /// The model named at least the requested number of candidates.
    case ok
    /// The model named some candidates; the others were appended in retriever order.
    case partial
    /// An answer came back but named no candidate: retriever order.
    case parseFailure = "parse_failure"
    /// No answer (timeout, unreachable server, HTTP error, unusable body): retriever order.
    case transportFailure = "transport_failure"
}

/// One user's reranking.
public struct RerankOutcome: Sendable, Equatable {
    public var userId: String
    /// The full candidate list: the K shown candidates reranked, then the unshown rest in retriever order.
    public var order: [String]
    public var status: RerankStatus
    /// Distinct candidates the model named.
    public var recognized: Int
    public var answer: String?
    public var error: String?
    public var seconds: Double
    public var attempts: Int
    /// Pointwise runs: each scored candidate's log P(Yes) - log P(No).
    public var scores: [String: Double]? = nil
}

/// Outcome counts of a run.
public struct RerankCounts: Codable, Equatable, Sendable {
    public var ok = 0
    public var partial = 0
    public var parseFailures = 0
    public var transportFailures = 0
    /// Users left in retriever order (parse failures + transport failures).
    public var fallbacks: Int { parseFailures + transportFailures }
    public var total: Int { ok + partial + parseFailures + transportFailures }
    enum CodingKeys: String, CodingKey {
        case ok, partial, parseFailures = "parse_failures", transportFailures = "transport_failures"
    }
    public init() {}
    public mutating func add(_ s: RerankStatus) {
        switch s {
        case .ok: ok += 1
        case .partial: partial += 1
        case .parseFailure: parseFailures += 1
        case .transportFailure: transportFailures += 1
        }
    }
}

/// A finished run: outcomes in input order, counts, wall time.
public struct RerankRun: Sendable {
    public var outcomes: [RerankOutcome]
    public var counts: RerankCounts
    public var seconds: Double
    /// Users answered (any status) per second of wall time.
    public var requestsPerSecond: Double { seconds > 0 ? Double(outcomes.count) / seconds : 0 }
    public init(outcomes: [RerankOutcome], counts: RerankCounts, seconds: Double) {
        self.outcomes = outcomes; self.counts = counts; self.seconds = seconds
    }
}

/// Why a reranking run stopped before it began.
public enum RerankerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The first user's request failed at the transport level; nothing more was sent.
    case unreachable(user: String, reason: String)

    public var description: String {
        switch self {
        case let .unreachable(user, reason):
            return "the LLM server did not answer the first user's request (user \(user)): \(reason); stopped before the other users"
        }
    }
}

/// Runs the reranker over records. `run` never throws for a bad answer or a failed request: such users keep
/// the retriever's order and are counted; `runCheckingServer` first makes sure the server answers at all.
public struct Reranker: Sendable {
    public let builder: PromptBuilder
    public let client: ChatCompleting
    /// Requests in flight at once.
    public let concurrency: Int
    /// When set, users are scored pointwise (one Yes/No question per candidate) instead of by the listwise prompt.
    public let pointwise: PointwiseScorer?

    public init(builder: PromptBuilder, client: ChatCompleting, concurrency: Int = 1, pointwise: PointwiseScorer? = nil) {
        self.builder = builder; self.client = client; self.concurrency = max(concurrency, 1); self.pointwise = pointwise
    }

    /// Reranks one user.
    public func rerank(_ record: CandidateRecord) async -> RerankOutcome {
        if let p = pointwise { return await p.rerank(record) }
        let shown = builder.shownCandidates(record)
        let rest = record.candidates.dropFirst(shown.count).map(\.itemId)
        let n = builder.requestedCount(record)
        let parser = AnswerParser(candidates: shown, expected: n)
        let start = Date()
        if shown.isEmpty {
            return RerankOutcome(userId: record.userId, order: rest, status: .ok, recognized: 0, answer: nil,
                                 error: nil, seconds: 0, attempts: 0)
        }
        do {
            let ans = try await client.complete(messages: builder.messages(for: record),
                                                candidateIds: shown.map(\.itemId), count: n)
            let parsed = parser.parse(ans.content)
            let status: RerankStatus = parsed.status == .ok ? .ok : (parsed.status == .partial ? .partial : .parseFailure)
            return RerankOutcome(userId: record.userId, order: parsed.order + rest, status: status,
                                 recognized: parsed.recognized, answer: ans.content, error: nil,
                                 seconds: Date().timeIntervalSince(start), attempts: ans.attempts)
        } catch {
            let attempts: Int
            switch error as? ChatClientError {
            case let .timeout(_, n)?, let .connection(_, n)?, let .http(_, _, n)?: attempts = n
            default: attempts = 1
            }
            return RerankOutcome(userId: record.userId, order: record.candidates.map(\.itemId),
                                 status: .transportFailure, recognized: 0, answer: nil, error: "\(error)",
                                 seconds: Date().timeIntervalSince(start), attempts: attempts)
        }
    }

    /// `run`, with the first user sent alone first as the server check: when its request fails at the transport
    /// level (the server cannot be reached, or answers only errors after the retries), nothing more is sent and
    /// `RerankerError.unreachable` is thrown with that failure; otherwise the rest follow as in `run`. (A run
    /// in which only some requests fail keeps their users in retriever order and counts them.)
    public func runCheckingServer(_ records: [CandidateRecord], progress: (@Sendable (Int, Int) -> Void)? = nil,
                                  finished: (@Sendable (Int, RerankOutcome) -> Void)? = nil) async throws -> RerankRun {
        guard let head = records.first else { return await run(records, progress: progress, finished: finished) }
        let start = Date()
        let first = await rerank(head)
        if first.status == .transportFailure {
            throw RerankerError.unreachable(user: head.userId, reason: first.error ?? "no answer")
        }
        finished?(0, first)
        progress?(1, records.count)
        let rest = await run(Array(records.dropFirst()), progress: { done, n in progress?(done + 1, n + 1) },
                             finished: { i, o in finished?(i + 1, o) })
        var counts = rest.counts
        counts.add(first.status)
        return RerankRun(outcomes: [first] + rest.outcomes, counts: counts, seconds: Date().timeIntervalSince(start))
    }

    /// Reranks all records with at most `concurrency` requests in flight; `progress` is called after each
    /// user (done, total) and `finished` with the user's index in `records` and its outcome, one user at a time.
    public func run(_ records: [CandidateRecord], progress: (@Sendable (Int, Int) -> Void)? = nil,
                    finished: (@Sendable (Int, RerankOutcome) -> Void)? = nil) async -> RerankRun {
        let start = Date()
        var outcomes = [RerankOutcome?](repeating: nil, count: records.count)
        await withTaskGroup(of: (Int, RerankOutcome).self) { group in
            var next = 0
            var done = 0
            while next < records.count && next < concurrency {
                let i = next, r = records[i]
                group.addTask { (i, await self.rerank(r)) }
                next += 1
            }
            while let (i, o) = await group.next() {
                outcomes[i] = o
                finished?(i, o)
                done += 1
                progress?(done, records.count)
                if next < records.count {
                    let j = next, r = records[j]
                    group.addTask { (j, await self.rerank(r)) }
                    next += 1
                }
            }
        }
        let all = outcomes.map { $0! }
        var counts = RerankCounts()
        for o in all { counts.add(o.status) }
        return RerankRun(outcomes: all, counts: counts, seconds: Date().timeIntervalSince(start))
    }
}
