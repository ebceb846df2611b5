// RatingGenerationTests: the rating parser, Liu et al.'s prompt, each user's cases, the report, the bounded runner.
import Foundation
import Testing
import RecAlignData
import RecAlignMetrics
import RecAlignTestSupport
@testable import RecAlignRerank

@Suite struct RatingGenerationTests {
    @Test(arguments: [
        ("4", Float(4)), ("Rating: 3.5 stars", 3.5), ("I'd rate it 4 out of 5.", 4), ("Toy Story (1995) gets a 4", 4),
        ("(4 stars, 80%)", 4), ("5.0", 5), ("4.", 4), ("6 or maybe 2", 2), ("**3**", 3), ("4,5", 4),
        ("The user will rate \"Free Willy 3: The Rescue (1997)\" a 2.", 2), ("\"4\"", 4), ("1. \"Heat\": 5", 5),
        ("Toy Story 2 is a 4", 2),
    ])
    func parserTakesTheFirstNumberOnTheScale(text: String, expected: Float) {
        #expect(RatingParser().parse(text) == expected, "\(text)")
    }

    @Test(arguments: ["10/10", "0", "five stars", "", "I cannot predict that.", "-", "1995", "The user's history: 1. \"Wedding"])
    func parserFindsNoRating(text: String) {
        #expect(RatingParser().parse(text) == nil, "\(text)")
    }

    /// Echoes of the prompt's titles lose their digits, closed quotes or not.
    @Test func parserIgnoresTheTitlesThePromptShowed() {
        let echoes = ["Free Willy 3: The Rescue (1997) (Adventure)", "Free Willy 3: The Rescue (1997)", "Free Willy 3: The Rescue"]
        #expect(RatingParser().parse("The user will rate the movie \"Free Willy 3: The Rescue (1997) (Adventure) as 2.", ignoring: echoes) == 2)
        #expect(RatingParser().parse("The user will rate the movie \"Free Willy 3: The Rescue (1997) (Adventure)\" as", ignoring: echoes) == nil)
        #expect(RatingParser().parse("Free Willy 3: The Rescue gets 4", ignoring: echoes) == 4)
        #expect(RatingParser().parse("Free Willy 3: The Rescue gets 4") == 3)
    }

    @Test func parserFollowsTheScale() {
        #expect(RatingParser(scale: 1...10).parse("7/10") == 7)
        #expect(RatingParser(scale: 0.5...5).parse("0.5") == 0.5)
    }

    /// One user: train ratings 5, 4, 3, 2, 1 on items 0...4 (oldest first), validation rating 4 on item 5, test
    /// rating 2 on item 6.
    static let split = RatingSplit(train: [5, 4, 3, 2, 1], offsets: [0, 5], trainItems: [0, 1, 2, 3, 4], valid: [4], test: [2],
                                   validItems: [5], testItems: [6], scale: 1...5)
    static let catalog = MovieCatalog(itemIds: (10...16).map(String.init),
                                      titles: ["Heat (1995)", "Fargo (1996)", "Big (1988)", "Seven (Se7en) (1995)", "Clueless (1995)",
                                               "Babe (1995)", "Casino (1995)"],
                                      genres: [["Action"], ["Crime"], ["Comedy"], ["Thriller"], ["Comedy"], ["Children's"], ["Drama"]])

    static func cases(history: Int, shots: Int) -> [RatingCase] {
        RatingCase.build(ratings: split, catalog: catalog, userIds: ["u1"], users: 0..<1, historyLength: history, shots: shots,
                         seed: 42, fallback: [3.5], baselines: [("global mean", [3]), ("user mean", [3.5])])
    }

    @Test func zeroShotShowsTheRatedHistoryAndAsksAboutTheTestItem() throws {
        let c = try #require(RatingGenerationTests.cases(history: 2, shots: 0).first)
        #expect(c.userId == "u1" && c.itemId == "16" && c.truth == 2 && c.fallback == 3.5)
        #expect(c.messages.map(\.role) == ["system", "user"])
        // The last two visible ratings: the last train one (item 4, rated 1), then the validation one (item 5, rated 4).
        #expect(c.messages[0].content.hasSuffix("(oldest first):\n1. \"Clueless (1995)\": 1\n2. \"Babe (1995)\": 4"))
        #expect(c.messages[1].content.hasPrefix("How will the user rate the movie \"Casino (1995) (Drama)\"? (1 being lowest and 5 being highest)"))
        #expect(Set(c.echoes) == ["Clueless (1995) (Comedy)", "Clueless (1995)", "Clueless", "Babe (1995) (Children's)", "Babe (1995)",
                                  "Babe", "Casino (1995) (Drama)", "Casino (1995)", "Casino"])
        let none = try #require(RatingGenerationTests.cases(history: 0, shots: 0).first)
        #expect(!none.messages[0].content.contains("history"))
    }

    @Test func fewShotDemonstrationsAreTheSameUsersEarlierRatings() throws {
        let c = try #require(RatingGenerationTests.cases(history: 2, shots: 2).first)
        #expect(c.messages.map(\.role) == ["system", "user", "assistant", "user", "assistant", "user"])
        // Drawn from the train ratings older than the shown window (items 0...3), answered with their ratings, in time order.
        let pool = ["Heat (1995) (Action)": "5", "Fargo (1996) (Crime)": "4", "Big (1988) (Comedy)": "3", "Seven (Se7en) (1995) (Thriller)": "2"]
        let order = ["Heat (1995) (Action)", "Fargo (1996) (Crime)", "Big (1988) (Comedy)", "Seven (Se7en) (1995) (Thriller)"]
        var seen: [Int] = []
        for k in [1, 3] {
            let title = try #require(order.first { c.messages[k].content.contains("\"\($0)\"") }, "\(c.messages[k].content)")
            #expect(c.messages[k + 1].content == pool[title])
            seen.append(order.firstIndex(of: title)!)
        }
        #expect(seen[0] < seen[1])
        // More shots than older ratings: all four, in time order.
        let all = try #require(RatingGenerationTests.cases(history: 2, shots: 9).first)
        #expect(stride(from: 2, to: 9, by: 2).map { all.messages[$0].content } == ["5", "4", "3", "2"])
        // History 0: the pool is every train rating (the validation one is never a demonstration).
        #expect(RatingGenerationTests.cases(history: 0, shots: 9)[0].messages.count == 1 + 2 * 5 + 1)
        // The same seed draws the same demonstrations.
        #expect(RatingGenerationTests.cases(history: 2, shots: 2)[0].messages == c.messages)
    }

    @Test func linesFallBackToTheUserMeanAndTheReportCountsIt() throws {
        let parser = RatingParser()
        let c = RatingCase(userId: "u", itemId: "i", truth: 4, fallback: 3.5, messages: [], baselines: [("global mean", 3), ("user mean", 3.5)])
        let ok = RatingLine(c, GeneratedText(text: "I think 5", error: nil, attempts: 1, seconds: 0), parser: parser)
        #expect(ok.status == .ok && ok.parsed == 5 && ok.predicted == 5)
        let bad = RatingLine(c, GeneratedText(text: "no idea", error: nil, attempts: 1, seconds: 0), parser: parser)
        #expect(bad.status == .parseFailure && bad.parsed == nil && bad.predicted == 3.5)
        let failed = RatingLine(c, GeneratedText(text: nil, error: "timeout", attempts: 3, seconds: 1), parser: parser)
        #expect(failed.status == .transportFailure && failed.predicted == 3.5 && failed.error == "timeout")

        var c2 = c; c2.truth = 2
        let ok2 = RatingLine(c2, GeneratedText(text: "3", error: nil, attempts: 1, seconds: 0), parser: parser)
        let r = RatingReport(lines: [ok, bad, failed, ok2], baselineNames: ["global mean", "user mean"], llm: "LLM", setup: ["setup"])
        #expect(r.parsed == 2 && r.parseFailures == 1 && r.transportFailures == 1 && r.interactions == 4)
        #expect(r.answerCounts == ["5": 1, "3": 1])
        #expect(r.rows.map(\.method) == ["global mean", "user mean", "LLM (unusable answers -> user mean)", "LLM, parsed answers only",
                                         "user mean on those interactions"])
        // LLM with fallbacks: errors +1, −0.5, −0.5, +1 → RMSE sqrt(2.5 / 4), MAE 3 / 4.
        #expect(abs(r.rows[2].errors.rmse - (2.5 / 4).squareRoot()) < 1e-9 && abs(r.rows[2].errors.mae - 0.75) < 1e-9)
        #expect(r.rows[3].errors.count == 2 && r.rows[3].errors.rmse == 1)
        // Global mean 3 against 4, 4, 4, 2.
        #expect(abs(r.rows[0].errors.mae - 1) < 1e-9)
        #expect(r.table.contains("| user mean | 4 | "))
        #expect(r.table.contains("parsed: 2, unparseable: 1, failed requests: 1"))
        // Baselines only (dry run): no LLM rows or counts.
        let dry = RatingReport(lines: [failed], baselineNames: ["global mean"], llm: nil, setup: [])
        #expect(dry.rows.count == 1 && dry.transportFailures == 0 && !dry.table.contains("parsed"))
    }

    /// A generator double that records how many requests are in flight at once.
    final class Recorder: TextGenerating, @unchecked Sendable {
        let lock = NSLock()
        var inFlight = 0, maxInFlight = 0, calls = 0
        let fail: (Int) -> Bool
        init(fail: @escaping (Int) -> Bool = { _ in false }) { self.fail = fail }
        func generate(messages: [ChatMessage], options: GenerationOptions) async throws -> (text: String, attempts: Int) {
            let n = Int(messages[0].content)!
            lock.withLock { inFlight += 1; maxInFlight = max(maxInFlight, inFlight); calls += 1 }
            try await Task.sleep(nanoseconds: 20_000_000)
            lock.withLock { inFlight -= 1 }
            if fail(n) { throw ChatClientError.timeout(seconds: 1, attempts: 3) }
            return ("answer \(n)", 1)
        }
    }

    @Test func runnerKeepsOrderAndTheConcurrencyBound() async throws {
        let prompts = (0..<12).map { [ChatMessage(role: "user", content: "\($0)")] }
        let rec = Recorder(fail: { $0 == 5 })
        let out = try await GenerationRunner(generator: rec, options: GenerationOptions(), concurrency: 3).runCheckingServer(prompts)
        #expect(out.map(\.text) == (0..<12).map { $0 == 5 ? nil : "answer \($0)" })
        #expect(out[5].error == "no answer within 1.0 s (3 attempt(s))" && out[5].attempts == 3)
        #expect(rec.maxInFlight == 3 && rec.calls == 12)
        // The first request failing stops the run before the others.
        let dead = Recorder(fail: { $0 == 0 })
        await #expect(throws: GenerationError.self) { try await GenerationRunner(generator: dead, options: GenerationOptions()).runCheckingServer(prompts) }
        #expect(dead.calls == 1)
    }

    /// The client's free-text request against the stub server: the options reach the body, the answer comes back.
    @Test func runnerOverTheChatClientAndAStubServer() async throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 200, body: LocalHTTPServer.chatBody("4 stars"), delay: 0) }
        defer { server.stop() }
        let client = ChatClient(config: ChatClientConfig(baseURL: server.url, model: "m"))
        let c = try #require(RatingGenerationTests.cases(history: 2, shots: 1).first)
        let out = try await GenerationRunner(generator: client, options: GenerationOptions(maxTokens: 16), concurrency: 2).runCheckingServer([c.messages])
        let line = RatingLine(c, out[0], parser: RatingParser())
        #expect(line.predicted == 4 && line.status == .ok)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(server.requests[0].body.utf8)) as? [String: Any])
        #expect(body["max_tokens"] as? Int == 16 && body["response_format"] == nil)
        #expect((body["messages"] as? [[String: String]])?.count == 4)
    }
}
