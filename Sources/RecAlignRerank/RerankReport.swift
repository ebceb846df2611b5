// RerankReport: retriever-order vs reranked-order metrics, the reranked JSONL lines, and the printed table.
import Foundation
import RecAlignMetrics

/// The rank of a record's target under an order of its candidates: its 1-based position when listed,
/// else the record's `target_rank` (the target lies beyond the list, where reranking cannot move it),
/// else a miss (`Int.max`). nil when the record has no target.
public func targetRank(of record: CandidateRecord, order: [String]) -> Int? {
    guard let t = record.target else { return nil }
    if let i = order.firstIndex(of: t) { return i + 1 }
    if let r = record.targetRank { return max(r, order.count + 1) }
    return Int.max
}

/// A difference of means with its paired-bootstrap 95% interval (`PairedBootstrap`), as stored in the summary.
public struct DeltaInterval: Codable, Equatable, Sendable {
    public var observed: Double
    public var low: Double
    public var high: Double
    init(_ b: BootstrapInterval) { observed = b.observed; low = b.low; high = b.high }
    /// "+0.0123 [+0.0034, +0.0210]".
    public var text: String { String(format: "%+.4f [%+.4f, %+.4f]", observed, low, high) }
}

/// Recall@10 and NDCG@10 of one order minus the retriever's, with intervals.
public struct OrderDelta: Codable, Equatable, Sendable {
    public var recall10: DeltaInterval
    public var ndcg10: DeltaInterval
    enum CodingKeys: String, CodingKey { case recall10 = "recall@10", ndcg10 = "ndcg@10" }

    /// Paired over the same users (1000 draws, seed 42); nil without users.
    init?(_ ranks: [Int], against base: [Int]) {
        guard !ranks.isEmpty,
              let r = try? PairedBootstrap.interval(ranks, base, metric: .recall(10)),
              let n = try? PairedBootstrap.interval(ranks, base, metric: .ndcg(10)) else { return nil }
        recall10 = DeltaInterval(r); ndcg10 = DeltaInterval(n)
    }
}

/// Retriever order vs reranked order (and their fusion) over the users that have a target.
public struct RerankComparison: Codable, Equatable, Sendable {
    public var retriever: MetricSummary
    public var reranked: MetricSummary
    /// The reranked order fused with the retriever's (`RankFusion`), when a weight was given.
    public var fused: MetricSummary?
    public var fusionWeight: Double?
    /// Each order against the retriever's, paired over the users.
    public var rerankedDelta: OrderDelta?
    public var fusedDelta: OrderDelta?
    /// Users without a target (not in the metrics).
    public var usersWithoutTarget: Int
    enum CodingKeys: String, CodingKey {
        case retriever, reranked, fused, fusionWeight = "fusion_weight", rerankedDelta = "reranked_delta",
             fusedDelta = "fused_delta", usersWithoutTarget = "users_without_target"
    }

    /// `outcomes[i]` belongs to `records[i]`; `fusionWeight` adds the fused row (`RankFusion.fuse`).
    public init(records: [CandidateRecord], outcomes: [RerankOutcome], fusionWeight: Double? = nil) {
        var before: [Int] = [], after: [Int] = [], fusedRanks: [Int] = []
        var without = 0
        for (r, o) in zip(records, outcomes) {
            let base = r.candidates.map(\.itemId)
            guard let b = targetRank(of: r, order: base), let a = targetRank(of: r, order: o.order) else { without += 1; continue }
            before.append(b); after.append(a)
            if let w = fusionWeight, let f = targetRank(of: r, order: RankFusion.fuse(retriever: base, llm: o.order, weight: w)) {
                fusedRanks.append(f)
            }
        }
        retriever = MetricSummary(ranks: before)
        reranked = MetricSummary(ranks: after)
        rerankedDelta = OrderDelta(after, against: before)
        self.fusionWeight = fusionWeight
        if fusionWeight != nil {
            fused = MetricSummary(ranks: fusedRanks)
            fusedDelta = OrderDelta(fusedRanks, against: before)
        }
        usersWithoutTarget = without
    }
}

/// One line of the reranked JSONL: the candidates.jsonl fields (candidates in reranked order, so
/// `CandidatesFile.read` reads it back) plus a `rerank` object saying how the order came about.
public struct RerankedRecord: Codable, Equatable, Sendable {
    public struct Info: Codable, Equatable, Sendable {
        public var status: RerankStatus
        public var recognized: Int
        public var answer: String?
        public var error: String?
        public var seconds: Double
        public var attempts: Int
        public var retrieverOrder: [String]
        /// The LLM's order when the record's candidates are in the fused order (nil: they are in the LLM's).
        public var llmOrder: [String]?
        /// Pointwise runs: log P(Yes) - log P(No) per scored candidate.
        public var scores: [String: Double]?
        public var fusionWeight: Double?
        enum CodingKeys: String, CodingKey {
            case status, recognized, answer, error, seconds, attempts, retrieverOrder = "retriever_order",
                 llmOrder = "llm_order", scores, fusionWeight = "fusion_weight"
        }
    }
    /// The candidates.jsonl record, its candidates in reranked (or, with a fusion weight, fused) order.
    public var record: CandidateRecord
    public var rerank: Info

    public init(record: CandidateRecord, outcome: RerankOutcome, fusionWeight: Double? = nil) {
        let byId = Dictionary(record.candidates.map { ($0.itemId, $0) }, uniquingKeysWith: { a, _ in a })
        let base = record.candidates.map(\.itemId)
        let final = fusionWeight.map { RankFusion.fuse(retriever: base, llm: outcome.order, weight: $0) } ?? outcome.order
        var reordered = record
        reordered.candidates = final.compactMap { byId[$0] }
        self.record = reordered
        rerank = Info(status: outcome.status, recognized: outcome.recognized, answer: outcome.answer,
                      error: outcome.error, seconds: (outcome.seconds * 1000).rounded() / 1000,
                      attempts: outcome.attempts, retrieverOrder: base,
                      llmOrder: fusionWeight == nil ? nil : outcome.order, scores: outcome.scores,
                      fusionWeight: fusionWeight)
    }

    /// The LLM's order of the candidates (the record's own order unless it was fused).
    public var llmOrder: [String] { rerank.llmOrder ?? record.candidates.map(\.itemId) }

    /// The record with its candidates in retriever order, and the LLM's order of them (for `chooseWeight`).
    public var retrieverRecordAndLLMOrder: (CandidateRecord, [String]) {
        let byId = Dictionary(record.candidates.map { ($0.itemId, $0) }, uniquingKeysWith: { a, _ in a })
        var r = record
        r.candidates = rerank.retrieverOrder.compactMap { byId[$0] }
        return (r, llmOrder)
    }

    /// The outcome this line was written from (for `rerank --resume`).
    public var outcome: RerankOutcome {
        RerankOutcome(userId: record.userId, order: llmOrder,
                      status: rerank.status, recognized: rerank.recognized, answer: rerank.answer,
                      error: rerank.error, seconds: rerank.seconds, attempts: rerank.attempts, scores: rerank.scores)
    }

    // One flat JSON object: the record's own keys plus `rerank`.
    enum RerankKey: String, CodingKey { case rerank }

    public init(from decoder: Decoder) throws {
        record = try CandidateRecord(from: decoder)
        rerank = try decoder.container(keyedBy: RerankKey.self).decode(Info.self, forKey: .rerank)
    }

    public func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)
        var c = encoder.container(keyedBy: RerankKey.self)
        try c.encode(rerank, forKey: .rerank)
    }

    /// JSONL of the reranked records (sorted keys).
    public static func encode(_ lines: [RerankedRecord]) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for l in lines { data.append(try enc.encode(l)); data.append(0x0A) }
        return data
    }
}

/// The summary a run prints and writes.
public struct RerankSummary: Codable, Sendable {
    public var comparison: RerankComparison
    public var counts: RerankCounts
    public var users: Int
    public var seconds: Double
    public var requestsPerSecond: Double
    public var httpRequests: Int
    public var structuredOutput: String
    public var model: String
    public var prompt: String
    /// Users taken from an earlier run's output (`--resume`); `seconds` and the request rate cover the others.
    public var reused: Int
    enum CodingKeys: String, CodingKey {
        case comparison, counts, users, seconds, requestsPerSecond = "requests_per_second",
             httpRequests = "http_requests", structuredOutput = "structured_output", model, prompt, reused
    }
    public init(comparison: RerankComparison, counts: RerankCounts, users: Int, seconds: Double,
                requestsPerSecond: Double, httpRequests: Int, structuredOutput: String, model: String, prompt: String,
                reused: Int = 0) {
        self.comparison = comparison; self.counts = counts; self.users = users; self.seconds = seconds
        self.requestsPerSecond = requestsPerSecond; self.httpRequests = httpRequests
        self.structuredOutput = structuredOutput; self.model = model; self.prompt = prompt; self.reused = reused
    }

    /// The side-by-side table plus the counts, as printed.
    public var table: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        func row(_ name: String, _ m: MetricSummary) -> String {
            name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: "%6d", m.users) + "  " + f(m.recall10) + "     " + f(m.ndcg10) + "   " + f(m.mrr10)
        }
        let c = counts
        let rate = users > 0 ? Double(c.parseFailures) / Double(users) : 0
        var rows = row("retriever", comparison.retriever) + "\n"
        rows += row("reranked", comparison.reranked) + (comparison.rerankedDelta.map { "  " + $0.ndcg10.text + "  " + $0.recall10.text } ?? "") + "\n"
        if let f = comparison.fused, let w = comparison.fusionWeight {
            rows += row(String(format: "fused %.1f", w), f) + (comparison.fusedDelta.map { "  " + $0.ndcg10.text + "  " + $0.recall10.text } ?? "") + "\n"
        }
        return """
        order      users  Recall@10  NDCG@10  MRR@10   ΔNDCG@10 vs retriever [95% CI]  ΔRecall@10 [95% CI]
        \(rows)users: \(users) (without target: \(comparison.usersWithoutTarget)); model \(model); prompt \(prompt); structured output \(structuredOutput)
        ok \(c.ok), partial \(c.partial), parse failures \(c.parseFailures) (rate \(f(rate))), transport failures \(c.transportFailures); fallbacks to retriever order \(c.fallbacks)
        \(String(format: "%.2f", seconds)) s, \(String(format: "%.3f", requestsPerSecond)) requests/s, \(httpRequests) HTTP requests\(reused > 0 ? " (for the \(users - reused) users not reused from the earlier run)" : "")

        """
    }
}
