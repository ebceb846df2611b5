// ChatEngine: one Chat-REC turn — retrieve for the blended query, let the LLM rerank, stream its checked reasons.
import Foundation
import RecAlignMetrics

/// One retrieved item row and its retriever score.
public struct ScoredRow: Equatable, Sendable {
    public var row: Int
    public var score: Float
    public init(row: Int, score: Float) { self.row = row; self.score = score }
}

/// Sizes of a turn.
public struct ChatSettings: Sendable {
    /// Items retrieved per turn and given to the LLM to rerank.
    public var candidates = 10
    /// Items shown per turn.
    public var show = 3
    /// Answer budgets (tokens) of the list's explanations and of a "why".
    public var explanationTokens = 200
    public var whyTokens = 120
    public init() {}
}

/// Runs the conversation: each line goes through `ChatSession`; a list is retrieved by `retrieve` (the
/// caller blends the request with the user's vector), reranked by `ranker` (constrained to the candidates'
/// ids, so the list holds catalog items only), and explained by `writer`, streamed line by line. Every
/// streamed line is checked (`ExplanationCheck`): a line naming a film outside the catalog is not shown, and
/// the answer says so. Without a ranker the retriever's order is shown; without a writer, no reasons.
public final class ChatEngine: @unchecked Sendable {
    public private(set) var session: ChatSession
    public let prompts: ChatPrompts
    public let settings: ChatSettings
    let retrieve: (ChatQuery, Int) throws -> [ScoredRow]
    let ranker: ChatCompleting?
    let writer: TextStreaming?
    let out: @Sendable (String) -> Void
    /// What the engine is waiting for ("ranking 10 candidates"), nil once it writes again: a terminal shows it
    /// on a status line while a slow model thinks.
    public var status: @Sendable (String?) -> Void = { _ in }
    let check: ExplanationCheck

    public init(session: ChatSession, prompts: ChatPrompts, settings: ChatSettings,
                retrieve: @escaping (ChatQuery, Int) throws -> [ScoredRow],
                ranker: ChatCompleting?, writer: TextStreaming?, out: @escaping @Sendable (String) -> Void) {
        self.session = session; self.prompts = prompts; self.settings = settings
        self.retrieve = retrieve; self.ranker = ranker; self.writer = writer; self.out = out
        check = ExplanationCheck(catalog: session.catalog)
    }

    var catalog: MovieCatalog { session.catalog }

    /// The opening list (the user's vector alone).
    public func start() async { _ = await run(session.opening()) }

    /// Handles one typed line; false when the user ends the conversation.
    public func handle(_ line: String) async -> Bool {
        guard let input = ChatInput.parse(line) else { return true }
        return await run(session.step(input))
    }

    func run(_ step: ChatStep) async -> Bool {
        switch step {
        case .quit: return false
        case let .say(text): out(text + "\n")
        case let .recommend(query, note):
            if let note { out(note + "\n") }
            await recommend(query)
        case let .explain(row): await explain(row)
        }
        return true
    }

    func recommend(_ query: ChatQuery) async {
        var found: [ScoredRow]
        // One row per title (the catalog may list a film twice): retrieve a few more, keep the first of each.
        do { found = try retrieve(query, settings.candidates * 2) } catch {
            say("I cannot search the catalog: \(error)")
            return
        }
        var titles = Set<String>()
        found = Array(found.filter { titles.insert(catalog.titles[$0.row]).inserted }.prefix(settings.candidates))
        guard !found.isEmpty else {
            session.showed([])
            say("I cannot find anything else that fits: what is left is in your history or rejected. Try another request.")
            return
        }
        let n = min(settings.show, found.count)
        var picks = found.prefix(n).map(\.row)
        var how = "retriever order"
        if let ranker {
            let items = found.map { CandidateItem(itemId: catalog.itemIds[$0.row], text: catalog.describe($0.row), score: $0.score) }
            status("the LLM is ranking \(found.count) candidates...")
            defer { status(nil) }
            do {
                let answer = try await ranker.complete(messages: prompts.rerank(session, candidates: found.map(\.row), count: n),
                                                       candidateIds: items.map(\.itemId), count: n)
                let parsed = AnswerParser(candidates: items, expected: n).parse(answer.content)
                picks = parsed.order.prefix(n).compactMap { catalog.row(of: $0) }
                switch parsed.status {
                case .ok: how = "LLM order"
                case .partial: how = "LLM order, completed in retriever order"
                case .failed: how = "retriever order: the LLM's answer named no candidate"
                }
            } catch {
                how = "retriever order: the LLM did not answer (\(error))"
            }
        }
        out("\(picks.count) of \(found.count) candidates (\(how)):\n")
        for (i, r) in picks.enumerated() { out("  \(i + 1). \(catalog.describe(r))\n") }
        session.showed(picks)
        var said = "I suggested: " + picks.map { catalog.titles[$0] }.joined(separator: "; ") + "."
        if writer != nil {
            let lines = await streamChecked(prompts.explainList(session, picks: picks), context: picks,
                                            maxTokens: settings.explanationTokens, maxLines: n + 1)
            if !lines.isEmpty { said += "\n" + lines.joined(separator: "\n") }
        }
        session.answered(said)
    }

    func explain(_ row: Int) async {
        guard writer != nil else {
            say("I can only explain with an LLM (--server); \(catalog.titles[row]) was retrieved as close to your history and request.")
            return
        }
        out("Why \(catalog.titles[row]):\n")
        let lines = await streamChecked(prompts.why(session, row: row), context: [row], maxTokens: settings.whyTokens, maxLines: 3)
        if lines.isEmpty { out("    I cannot say why.\n") }
        session.answered(lines.isEmpty ? "I could not say why." : lines.joined(separator: " "))
    }

    /// Prints and records.
    func say(_ text: String) {
        out(text + "\n")
        session.answered(text)
    }

    /// Streams an answer, printing each complete line that passes the check (indented under the list) as it arrives. A line
    /// naming a title outside the catalog is replaced by a note; lines beyond `maxLines` are dropped. Returns
    /// the lines shown.
    func streamChecked(_ messages: [ChatMessage], context: [Int], maxTokens: Int, maxLines: Int) async -> [String] {
        guard let writer else { return [] }
        let history = prompts.shownHistory(session)
        status("the LLM is writing...")
        let gate = LineGate(maxLines: maxLines) { [check, out, status] line in
            status(nil)
            let findings = check.check(line, history: history + context)
            if findings.hallucinates {
                let names = findings.hallucinated.map { "\"\($0)\"" }.joined(separator: ", ")
                out("    (a line naming \(names), which is not in the catalog, was left out)\n")
                return false
            }
            out("    " + line + "\n")
            return true
        }
        var failure: Error?
        do {
            _ = try await writer.stream(messages: messages, options: GenerationOptions(maxTokens: maxTokens)) { gate.feed($0) }
        } catch { failure = error }
        gate.finish()
        status(nil)
        if let failure { out("    (the LLM stopped: \(failure))\n") }
        return gate.shown
    }
}

/// Cuts streamed text into lines and hands each non-empty line to `accept` (which prints it or not).
final class LineGate: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = ""
    private var lines = 0
    private(set) var shown: [String] = []
    let maxLines: Int
    let accept: (String) -> Bool

    init(maxLines: Int, accept: @escaping (String) -> Bool) { self.maxLines = maxLines; self.accept = accept }

    func feed(_ piece: String) {
        lock.lock(); defer { lock.unlock() }
        pending += piece
        while let nl = pending.firstIndex(of: "\n") {
            let line = String(pending[..<nl])
            pending = String(pending[pending.index(after: nl)...])
            take(line)
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        take(pending)
        pending = ""
    }

    private func take(_ raw: String) {
        let line = raw.trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty, lines < maxLines else { return }
        lines += 1
        if accept(line) { shown.append(line) }
    }
}
