// RerankerTests: fallbacks, counts, concurrency limit and retriever-vs-reranked metrics with a scripted model.
import Foundation
import Testing
@testable import RecAlignRerank
import RecAlignMetrics

/// A model double answering per user from a script; records the most requests in flight at once.
final class ScriptedModel: ChatCompleting, @unchecked Sendable {
    let lock = NSLock()
    var inFlight = 0
    var maxInFlight = 0
    var calls = 0
    let answers: [String: String?]  // user id -> answer (nil: throw a transport error)
    let delay: Double
    init(answers: [String: String?], delay: Double = 0) { self.answers = answers; self.delay = delay }

    func enter() { lock.lock(); inFlight += 1; calls += 1; maxInFlight = max(maxInFlight, inFlight); lock.unlock() }
    func leave() { lock.lock(); inFlight -= 1; lock.unlock() }

    func complete(messages: [ChatMessage], candidateIds: [String], count: Int) async throws -> ChatAnswer {
        enter()
        if delay > 0 { try? await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
        leave()
        let user = messages.last!.content.components(separatedBy: "USER=")[1].prefix { $0.isNumber }
        guard let a = answers[String(user)], let text = a else {
            throw ChatClientError.connection("scripted failure", attempts: 3)
        }
        return ChatAnswer(content: text, attempts: 1, structured: .plain)
    }
}

@Suite struct RerankerTests {
    static let template = PromptTemplate(system: "", user: "USER={user_id}\n{candidates}")

    static func ids(_ r: CandidateRecord, _ range: Range<Int>) -> [String] { Array(r.candidates[range].map(\.itemId)) }

    @Test func fallbacksCountsAndMetrics() async throws {
        let recs = try Fixture.records()
        let by = Dictionary(uniqueKeysWithValues: recs.map { ($0.userId, $0) })
        func json(_ a: [String]) -> String { "[" + a.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
        let answers: [String: String?] = [
            "196": #"["121"]"#,                            // partial: target (3rd) moved to 1st
            "186": "I cannot help with that.",             // parse failure: retriever order
            "22": json(Self.ids(by["22"]!, 0..<10).reversed()), // ok; target is 21st, unshown: stays 21st
            "244": nil,                                     // transport failure; target beyond the list (57)
            "166": json(Self.ids(by["166"]!, 1..<11)),      // ok; target (1st) pushed to 11th
            "298": json(Self.ids(by["298"]!, 0..<10)),      // ok; no target
        ]
        let model = ScriptedModel(answers: answers)
        let builder = PromptBuilder(options: PromptOptions(), template: Self.template)
        let run = await Reranker(builder: builder, client: model, concurrency: 3).run(recs)
        #expect(run.outcomes.map(\.userId) == recs.map(\.userId))
        #expect(run.counts.ok == 3 && run.counts.partial == 1)
        #expect(run.counts.parseFailures == 1 && run.counts.transportFailures == 1 && run.counts.fallbacks == 2)
        for (r, o) in zip(recs, run.outcomes) {
            #expect(o.order.sorted() == r.candidates.map(\.itemId).sorted())
        }
        #expect(run.outcomes[1].order == recs[1].candidates.map(\.itemId))
        #expect(run.outcomes[3].order == recs[3].candidates.map(\.itemId))
        #expect(run.outcomes[3].error?.contains("scripted failure") == true)
        // 22 candidates for user 22: the 2 unshown ones stay at the end.
        #expect(Array(run.outcomes[2].order.suffix(2)) == Self.ids(by["22"]!, 20..<22))

        let cmp = RerankComparison(records: recs, outcomes: run.outcomes)
        // Retriever ranks 3, 15, 21, 57, 1; reranked 1, 15, 21, 57, 11; user 298 has no target.
        #expect(cmp.usersWithoutTarget == 1)
        #expect(cmp.retriever == MetricSummary(ranks: [3, 15, 21, 57, 1]))
        #expect(cmp.reranked == MetricSummary(ranks: [1, 15, 21, 57, 11]))
        #expect(abs(cmp.retriever.recall10 - 0.4) < 1e-12)
        #expect(abs(cmp.retriever.ndcg10 - (0.5 + 1.0) / 5) < 1e-12)
        #expect(abs(cmp.retriever.mrr10 - (1.0 / 3 + 1) / 5) < 1e-12)
        #expect(abs(cmp.reranked.recall10 - 0.2) < 1e-12 && abs(cmp.reranked.mrr10 - 0.2) < 1e-12)

        // The JSONL lines read back as candidates.jsonl, in reranked order, with their provenance.
        let lines = zip(recs, run.outcomes).map { RerankedRecord(record: $0, outcome: $1) }
        let dir = Fixture.tempDir()
        let path = dir.appendingPathComponent("out.jsonl").path
        try RerankedRecord.encode(lines).write(to: URL(fileURLWithPath: path))
        let back = try CandidatesFile.read(path: path)
        #expect(back.map { $0.candidates.map(\.itemId) } == run.outcomes.map(\.order))
        #expect(back[0].candidates[0] == recs[0].candidates[2])  // ids keep their text and score
        #expect(lines[1].rerank.status == .parseFailure && lines[1].rerank.answer == "I cannot help with that.")
        // One flat object per line that decodes back to the same record.
        let firstLine = try RerankedRecord.encode([lines[1]])
        #expect(try JSONDecoder().decode(RerankedRecord.self, from: firstLine) == lines[1])
    }

    @Test func targetRankRules() throws {
        let r = CandidateRecord(userId: "u", history: [], candidates: [
            CandidateItem(itemId: "a", text: "A"), CandidateItem(itemId: "b", text: "B")], target: "b")
        #expect(targetRank(of: r, order: ["a", "b"]) == 2)
        #expect(targetRank(of: r, order: ["b", "a"]) == 1)
        var beyond = r; beyond.target = "z"; beyond.targetRank = 40
        #expect(targetRank(of: beyond, order: ["a", "b"]) == 40)
        beyond.targetRank = nil
        #expect(targetRank(of: beyond, order: ["a", "b"]) == Int.max)  // a miss at every K
        var none = r; none.target = nil
        #expect(targetRank(of: none, order: ["a"]) == nil)
    }

    /// The server check: a first user whose request fails at the transport level stops the run after that one
    /// request; when it answers, the run equals `run` (a later failure is counted, not thrown).
    @Test func unreachableServerStopsAfterTheFirstUser() async throws {
        let recs = try Fixture.records()
        let builder = PromptBuilder(options: PromptOptions(), template: Self.template)
        let dead = ScriptedModel(answers: [:])
        await #expect(throws: RerankerError.unreachable(user: recs[0].userId, reason: "connection failed: scripted failure (3 attempt(s))")) {
            _ = try await Reranker(builder: builder, client: dead, concurrency: 3).runCheckingServer(recs)
        }
        #expect(dead.calls == 1)

        var answers = Dictionary(uniqueKeysWithValues: recs.map { ($0.userId, Optional("[]")) })
        answers[recs[2].userId] = .some(nil)  // a later transport failure
        let live = ScriptedModel(answers: answers)
        let seen = ProgressLog()
        let checked = try await Reranker(builder: builder, client: live, concurrency: 3).runCheckingServer(recs) { d, n in seen.add(d, n) }
        let plain = await Reranker(builder: builder, client: ScriptedModel(answers: answers), concurrency: 3).run(recs)
        #expect(checked.outcomes.map(\.userId) == recs.map(\.userId))
        #expect(checked.outcomes.map(\.status) == plain.outcomes.map(\.status) && checked.counts == plain.counts)
        #expect(checked.counts.transportFailures == 1 && live.calls == recs.count)
        #expect(seen.last == [recs.count, recs.count] && seen.count == recs.count)
    }

    @Test func concurrencyLimitIsRespected() async throws {
        let recs = try Fixture.records()
        let model = ScriptedModel(answers: Dictionary(uniqueKeysWithValues: recs.map { ($0.userId, "[]") }), delay: 0.15)
        let builder = PromptBuilder(options: PromptOptions(), template: Self.template)
        let run = await Reranker(builder: builder, client: model, concurrency: 2).run(recs)
        #expect(model.maxInFlight == 2)
        #expect(run.counts.parseFailures == 6)
        #expect(run.requestsPerSecond > 0)
    }
}

/// Progress callbacks seen, from any task.
final class ProgressLog: @unchecked Sendable {
    let lock = NSLock()
    var calls: [[Int]] = []
    func add(_ done: Int, _ total: Int) { lock.lock(); calls.append([done, total]); lock.unlock() }
    var last: [Int]? { lock.lock(); defer { lock.unlock() }; return calls.max { $0[0] < $1[0] } }
    var count: Int { lock.lock(); defer { lock.unlock() }; return calls.count }
}
