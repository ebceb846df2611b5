// PromptBuilder: turns one candidates.jsonl record (plus other users for few-shot) into chat messages.
import Foundation
import RecAlignMetrics
import RecAlignData

/// One chat message of the OpenAI chat-completions API.
public struct ChatMessage: Codable, Equatable, Sendable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
}

/// Settings of the prompt builders.
public struct PromptOptions: Equatable, Sendable {
    public var kind: PromptKind = .chatrec
    public var task: LiuTask = .sequential
    /// Candidates shown to the model (the retriever's first K).
    public var topK: Int = 20
    /// Items the model is asked to return.
    public var topN: Int = 10
    /// Most recent history items shown for the user (oldest first).
    public var historyLength: Int = 10
    /// Few-shot demonstrations per prompt (liu-few only).
    public var shots: Int = 3
    /// Most recent history items shown per demonstration.
    public var demoHistoryLength: Int = 5
    /// Seed of the demonstration draw.
    public var seed: UInt64 = 42
    public init() {}
}

/// Builds the messages of each user's prompt from a template (built-in or from a file).
public struct PromptBuilder: Sendable {
    public let options: PromptOptions
    public let template: PromptTemplate
    /// Users a few-shot prompt may draw demonstrations from (all records of the file, not only the reranked ones).
    let pool: [Demonstration]

    /// One other user's example: the end of their history and the item they chose next.
    struct Demonstration: Sendable {
        var userId: String
        var history: [String]
        var targetId: String
        var targetText: String
    }

    /// - Parameters:
    ///   - options: prompt settings.
    ///   - template: nil for the built-in template of `options.kind` / `options.task`.
    ///   - demonstrationPool: records that few-shot demonstrations are drawn from. Only records with a
    ///     target whose text is known (the target is among its candidates or history) can serve.
    public init(options: PromptOptions, template: PromptTemplate? = nil, demonstrationPool: [CandidateRecord] = []) {
        self.options = options
        self.template = template ?? DefaultTemplates.template(kind: options.kind, task: options.task)
        var pool: [Demonstration] = []
        for r in demonstrationPool {
            guard let t = r.target,
                  let text = (r.candidates.first { $0.itemId == t } ?? r.history.first { $0.itemId == t })?.text
            else { continue }
            let hist = r.history.suffix(max(options.demoHistoryLength, 0)).map(\.text)
            pool.append(Demonstration(userId: r.userId, history: Array(hist), targetId: t, targetText: text))
        }
        self.pool = pool
    }

    /// The candidates shown for `record` (its first K).
    public func shownCandidates(_ record: CandidateRecord) -> [CandidateItem] {
        Array(record.candidates.prefix(max(options.topK, 0)))
    }

    /// Items asked for: N, capped by the number of candidates shown.
    public func requestedCount(_ record: CandidateRecord) -> Int {
        min(max(options.topN, 1), shownCandidates(record).count)
    }

    /// The chat messages for one user: an optional system message, then the user message.
    public func messages(for record: CandidateRecord) -> [ChatMessage] {
        var values = PromptBuilder.userValues(record: record, shown: shownCandidates(record),
                                              n: requestedCount(record), historyLength: options.historyLength)
        values["demonstrations"] = ""
        if options.kind == .liuFew {
            let demos = demonstrations(for: record.userId)
            let blocks = demos.enumerated().map { i, d in
                PromptTemplate.render(template.demo, [
                    "index": String(i + 1), "history": PromptBuilder.numbered(d.history),
                    "history_list": PromptBuilder.jsonList(d.history), "history_count": String(d.history.count),
                    "target": d.targetText, "target_id": d.targetId,
                ])
            }
            values["demonstrations"] = blocks.isEmpty ? "" : blocks.joined(separator: "\n") + "\n\n"
        }
        var out: [ChatMessage] = []
        let system = PromptTemplate.render(template.system, values)
        if !system.isEmpty { out.append(ChatMessage(role: "system", content: system)) }
        out.append(ChatMessage(role: "user", content: PromptTemplate.render(template.user, values)))
        return out
    }

    /// The demonstrations of a user: `shots` other users drawn without replacement from the pool by a
    /// partial Fisher-Yates shuffle, SplitMix64 seeded by `seed` and the user's id (so a user's draw does
    /// not depend on which other users are reranked).
    func demonstrations(for userId: String) -> [Demonstration] {
        var idx = pool.indices.filter { pool[$0].userId != userId }
        let m = min(max(options.shots, 0), idx.count)
        var rng = SplitMix64(state: options.seed ^ PromptBuilder.fnv1a(userId))
        for i in 0..<m {
            let j = i + Int(rng.next() % UInt64(idx.count - i))
            idx.swapAt(i, j)
        }
        return idx.prefix(m).map { pool[$0] }
    }

    /// Placeholder values of the user and system sections.
    static func userValues(record: CandidateRecord, shown: [CandidateItem], n: Int, historyLength: Int) -> [String: String] {
        let hist = record.history.suffix(max(historyLength, 0)).map(\.text)
        return [
            "user_id": record.userId,
            "profile": profileText(record.profile),
            "history": numbered(Array(hist)),
            "history_list": jsonList(Array(hist)),
            "history_count": String(hist.count),
            "last_item": hist.last ?? "",
            "candidates": shown.map { "[\($0.itemId)] \($0.text)" }.joined(separator: "\n"),
            "candidate_ids": shown.map(\.itemId).joined(separator: ", "),
            "k": String(shown.count),
            "n": String(n),
        ]
    }

    /// `key: value, ...` sorted by key, or `unknown` when there are no fields.
    static func profileText(_ profile: [String: String]?) -> String {
        guard let p = profile, !p.isEmpty else { return "unknown" }
        return p.keys.sorted().map { "\($0): \(p[$0]!)" }.joined(separator: ", ")
    }

    static func numbered(_ items: [String]) -> String {
        items.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
    }

    /// A JSON list of strings, e.g. `["Heat (1995)", "Alien (1979)"]`.
    static func jsonList(_ items: [String]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.withoutEscapingSlashes]
        let parts = items.map { String(decoding: (try? enc.encode($0)) ?? Data("\"\"".utf8), as: UTF8.self) }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
