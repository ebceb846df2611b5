// ChatTests: the chat's input reading, state machine, prompt budget, streamed-line checks and SSE streaming.
import Foundation
import Testing
@testable import RecAlignRerank
import RecAlignTestSupport

enum ChatFixture {
    /// Eight films; rows 0 and 4 are the same film under two ids (as ml-100k lists some).
    static let catalog = MovieCatalog(
        itemIds: ["1", "2", "3", "4", "5", "6", "7", "8"],
        titles: ["Heat (1995)", "Fargo (1996)", "Toy Story (1995)", "Scream (1996)", "Heat (1995)", "Babe (1995)",
                 "Casino (1995)", "Jumanji (1995)"],
        genres: [["Action", "Crime"], ["Crime", "Drama"], ["Animation", "Comedy"], ["Horror", "Thriller"],
                 ["Action", "Crime"], ["Children's", "Comedy"], ["Crime", "Drama"], ["Adventure", "Children's"]])

    /// Scores fall with the row: the retriever's order is 0, 1, 2, ... minus the excluded rows.
    static func retrieve(_ q: ChatQuery, _ k: Int) -> [ScoredRow] {
        (0..<catalog.count).filter { !q.exclude.contains($0) }.prefix(k).map { ScoredRow(row: $0, score: Float(10 - $0)) }
    }
}

@Suite struct ChatInputTests {
    @Test func linesMapToInputs() {
        #expect(ChatInput.parse("   ") == nil)
        #expect(ChatInput.parse("quit") == .quit && ChatInput.parse("Bye!") == .quit)
        #expect(ChatInput.parse("help") == .help && ChatInput.parse("?") == .help)
        #expect(ChatInput.parse("more") == .more && ChatInput.parse("Something else.") == .more)
        #expect(ChatInput.parse("no 2") == .reject([.position(2)], said: "no 2"))
        #expect(ChatInput.parse("reject 1 and 3") == .reject([.position(1), .position(3)], said: "reject 1 and 3"))
        #expect(ChatInput.parse("not Heat") == .reject([.text("Heat")], said: "not Heat"))
        #expect(ChatInput.parse("I've seen #2") == .reject([.position(2)], said: "I've seen #2"))
        #expect(ChatInput.parse("none of these") == .reject([], said: "none of these"))
        #expect(ChatInput.parse("why 2") == .why(.position(2)) && ChatInput.parse("why?") == .why(nil))
        #expect(ChatInput.parse("why would I like Casino") == .why(.text("Casino")))
        #expect(ChatInput.parse("like Heat, but lighter") == .request("like Heat, but lighter"))
        #expect(ChatInput.parse("nothing scary please") == .request("nothing scary please"))
    }

    @Test func declinedGenresLeaveTheText() {
        let g: Set<String> = ["Horror", "Comedy", "Western", "Romance"]
        let a = RequestText.declinedGenres("not in the mood for horror", genres: g)
        #expect(a.declined == ["Horror"] && a.rest == "")
        let b = RequestText.declinedGenres("a heist film, no romance or westerns", genres: g)
        #expect(b.declined == ["Romance", "Western"] && b.rest == "a heist film")
        let c = RequestText.declinedGenres("funny but not horror", genres: g)
        #expect(c.declined == ["Horror"] && c.rest == "funny but")
        // "no" followed by "but" before any genre: nothing declined.
        let d = RequestText.declinedGenres("no idea, but a comedy", genres: g)
        #expect(d.declined.isEmpty && d.rest == "no idea, but a comedy")
    }
}

@Suite struct ChatSessionTests {
    @Test func rejectsAreHonouredFromThenOn() {
        var s = ChatSession(catalog: ChatFixture.catalog, history: [1])
        guard case let .recommend(q0, nil) = s.opening() else { Issue.record("no opening list"); return }
        #expect(q0.text == nil && q0.exclude == [1])
        s.showed([0, 2, 3])
        // Rejecting "Heat" rejects its twin (row 4) too.
        guard case let .recommend(q1, note?) = s.step(.reject([.position(1)], said: "no 1")) else { Issue.record("no list"); return }
        #expect(note.contains("Heat (1995)"))
        #expect(q1.exclude == [0, 4, 1])  // the rest of the list may stay
        s.showed([2, 3, 5])
        #expect(s.step(.request("something funny")) == .recommend(ChatQuery(text: "something funny", anchors: [], exclude: [0, 1, 4]), note: nil))
        s.showed([2, 5, 6])
        // "more" skips what this request showed; the reject still holds.
        guard case let .recommend(q2, nil) = s.step(.more) else { Issue.record("no list"); return }
        #expect(q2.exclude == [0, 1, 4, 2, 5, 6])
        // By title, among the shown list first.
        guard case let .recommend(q3, _) = s.step(.reject([.text("Casino")], said: "not Casino")) else { Issue.record("no list"); return }
        #expect(q3.exclude == [0, 1, 4, 6] && s.rejected == [0, 6])
    }

    @Test func requestsNameAnchorsAndDeclineGenres() {
        var s = ChatSession(catalog: ChatFixture.catalog, history: [])
        let step = s.step(.request("like Heat, but no horror"))
        guard case let .recommend(q, nil) = step else { Issue.record("no list"); return }
        #expect(q.anchors == [0, 4] && q.text == "like Heat, but")
        #expect(q.exclude == [0, 4, 3])  // the film named, its twin, and the horror film
        // A reject whose words name no title is a request.
        guard case let .recommend(q2, nil) = s.step(.reject([.text("in the mood for horror")], said: "not in the mood for horror")) else {
            Issue.record("no list"); return
        }
        #expect(q2.text == nil && q2.exclude == [3] && s.request == "not in the mood for horror")
    }

    @Test func whyAndRefusals() {
        var s = ChatSession(catalog: ChatFixture.catalog, history: [1])
        #expect(s.step(.why(nil)) == .say("Nothing is shown yet; ask for something first."))
        #expect(s.step(.reject([], said: "no")) == .say("There is no list to reject yet; ask for something."))
        s.showed([0, 2, 3])
        #expect(s.step(.why(.position(2))) == .explain(row: 2))
        #expect(s.step(.why(nil)) == .explain(row: 0))
        #expect(s.step(.why(.text("Scream"))) == .explain(row: 3))
        #expect(s.step(.reject([.position(7)], said: "no 7")) == .say("The last list has items 1 to 3; there is no 7."))
        #expect(s.step(.why(.text("Citizen Kane"))) == .say("I do not know a film called \"Citizen Kane\" in this catalog."))
        #expect(s.step(.quit) == .quit)
        #expect(s.rejected.isEmpty)
    }
}

@Suite struct ChatPromptTests {
    @Test func oldTurnsAreDroppedWithinTheBudget() {
        var s = ChatSession(catalog: ChatFixture.catalog, history: [0, 1, 2])
        for i in 0..<40 {
            _ = s.step(.request("request number \(i) " + String(repeating: "words ", count: 30)))
            s.showed([5])
            s.answered("answer \(i) " + String(repeating: "reasons ", count: 30))
        }
        _ = s.step(.request("the current one"))
        let p = ChatPrompts(catalog: ChatFixture.catalog, contextTokens: 1000)
        let m = p.rerank(s, candidates: [5, 6, 7], count: 2)
        #expect(ChatPrompts.estimatedTokens(m) <= 1000)
        #expect(m.first?.role == "system" && m.last?.content.contains("My request: the current one") == true)
        #expect(m.last!.content.contains("8: Jumanji (1995) (Adventure, Children's)"))
        // The newest exchanges are kept, the oldest dropped; roles alternate after the system message.
        let joined = m.map(\.content).joined(separator: "\n")
        #expect(joined.contains("answer 39") && !joined.contains("answer 0 "))
        for (a, b) in zip(m.dropFirst(), m.dropFirst(2)) { #expect(a.role != b.role) }
        // A generous budget keeps every turn.
        let all = ChatPrompts(catalog: ChatFixture.catalog, contextTokens: 100_000).rerank(s, candidates: [5], count: 1)
        #expect(all.count == 3 + 80 + 1)
    }
}

/// A ranker that answers with fixed ids and records what it was asked.
final class StubRanker: ChatCompleting, @unchecked Sendable {
    let answer: ([String]) -> String
    private(set) var asked: [[String]] = []
    init(answer: @escaping ([String]) -> String) { self.answer = answer }
    func complete(messages: [ChatMessage], candidateIds: [String], count: Int) async throws -> ChatAnswer {
        asked.append(candidateIds)
        return ChatAnswer(content: answer(candidateIds), attempts: 1, structured: .jsonSchema)
    }
}

/// A writer that streams fixed text in small pieces.
struct StubWriter: TextStreaming {
    let text: String
    func stream(messages: [ChatMessage], options: GenerationOptions, onText: @escaping @Sendable (String) -> Void) async throws -> String {
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: 3, limitedBy: text.endIndex) ?? text.endIndex
            onText(String(text[i..<j])); i = j
        }
        return text
    }
}

final class Transcript: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func write(_ s: String) { lock.lock(); value += s; lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return value }
}

@Suite struct ChatEngineTests {
    @Test func aConversationShowsOnlyCatalogItemsAndHonoursRejects() async {
        let t = Transcript()
        // The LLM reverses the retriever's order; its reasons name a film outside the catalog on line 2.
        let ranker = StubRanker { ids in "[" + ids.reversed().prefix(2).map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        let writer = StubWriter(text: "1. Like Fargo (1996), which you watched.\n2. As gripping as \"The Matrix\".\n3. extra\n4. dropped")
        var settings = ChatSettings(); settings.candidates = 4; settings.show = 2
        let engine = ChatEngine(session: ChatSession(catalog: ChatFixture.catalog, history: [1]),
                                prompts: ChatPrompts(catalog: ChatFixture.catalog), settings: settings,
                                retrieve: ChatFixture.retrieve, ranker: ranker, writer: writer, out: t.write)
        let states = Transcript()
        engine.status = { states.write(($0 ?? "-") + "|") }
        await engine.start()
        // The status line names each wait and is cleared before the output it waited for.
        #expect(states.text.hasPrefix("the LLM is ranking 4 candidates...|-|the LLM is writing...|-|"))
        // Retrieved (titles once): Heat, Toy Story, Scream, Babe -> the LLM's top 2: Babe, Scream.
        #expect(ranker.asked[0] == ["1", "3", "4", "6"])
        #expect(engine.session.shown == [5, 3])
        #expect(t.text.contains("2 of 4 candidates (LLM order):\n  1. Babe (1995) (Children's, Comedy)\n  2. Scream (1996) (Horror, Thriller)\n"))
        #expect(t.text.contains("\n    1. Like Fargo (1996), which you watched.\n"))
        #expect(t.text.contains("(a line naming \"The Matrix\", which is not in the catalog, was left out)"))
        #expect(!t.text.contains("gripping") && !t.text.contains("dropped"))
        #expect(await engine.handle("no 2"))
        #expect(t.text.contains("OK, I will not suggest Scream (1996) again."))
        #expect(await engine.handle("more"))
        #expect(await engine.handle("something else entirely"))
        // Scream never comes back.
        #expect(ranker.asked.dropFirst().allSatisfy { !$0.contains("4") })
        #expect(!(await engine.handle("quit")))
        // Every list line is a catalog item.
        let described = Set((0..<ChatFixture.catalog.count).map(ChatFixture.catalog.describe))
        let listed = t.text.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.dropFirst(2).first?.isNumber == true }
        #expect(!listed.isEmpty)
        for l in listed { #expect(described.contains(String(l.drop(while: { $0 != "." }).dropFirst(2)))) }
    }

    @Test func anExhaustedCatalogSaysSo() async {
        let t = Transcript()
        var settings = ChatSettings(); settings.candidates = 8; settings.show = 3
        let engine = ChatEngine(session: ChatSession(catalog: ChatFixture.catalog, history: [0, 1, 2, 3, 5, 6]),
                                prompts: ChatPrompts(catalog: ChatFixture.catalog), settings: settings,
                                retrieve: ChatFixture.retrieve, ranker: nil, writer: nil, out: t.write)
        await engine.start()
        #expect(t.text.contains("1 of 1 candidates (retriever order):\n  1. Jumanji (1995) (Adventure, Children's)\n"))
        _ = await engine.handle("no")
        #expect(t.text.contains("I cannot find anything else that fits"))
        _ = await engine.handle("why")
        #expect(t.text.contains("Nothing is shown yet") || t.text.contains("There is no list yet"))
    }
}

@Suite struct EventStreamTests {
    @Test func payloadsSurviveAnyCut() {
        let text = "data: {\"a\":1}\r\n\n: comment\nevent: x\ndata:{\"b\":2}\n\ndata: [DONE]\n"
        let bytes = Array(text.utf8)
        for cut in 1..<bytes.count {
            var d = EventStreamDecoder()
            let got = d.feed(bytes[..<cut]) + d.feed(bytes[cut...]) + d.finish()
            #expect(got == ["{\"a\":1}", "{\"b\":2}", "[DONE]"])
        }
        var d = EventStreamDecoder()
        #expect(d.feed(Array("data: x".utf8)).isEmpty && d.finish() == ["x"])
    }

    static func sse(_ pieces: [String]) -> String {
        var s = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
        for p in pieces {
            let obj: [String: Any] = ["choices": [["index": 0, "delta": ["content": p]]]]
            s += "data: " + String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self) + "\n\n"
        }
        return s + "data: [DONE]\n\n"
    }

    @Test func aStreamedAnswerArrivesInPiecesAndFailuresAreRetried() async throws {
        let server = try LocalHTTPServer { i, _ in
            i == 0 ? .respond(status: 503, body: "busy", delay: 0) : .respond(status: 200, body: EventStreamTests.sse(["Hel", "lo ", "wörld"]), delay: 0)
        }
        defer { server.stop() }
        var c = ChatClientConfig(baseURL: server.url, model: "m"); c.backoff = 0.01
        let client = ChatClient(config: c)
        let t = Transcript()
        let text = try await client.stream(messages: [ChatMessage(role: "user", content: "hi")], options: GenerationOptions(maxTokens: 9)) {
            t.write($0 + "|")
        }
        #expect(text == "Hello wörld" && t.text == "Hel|lo |wörld|")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(server.requests[1].body.utf8)) as? [String: Any])
        #expect(body["stream"] as? Bool == true && body["max_tokens"] as? Int == 9)
        #expect(server.requests[1].head.lowercased().contains("accept: text/event-stream"))
        // A 4xx is not retried.
        let bad = try LocalHTTPServer { _, _ in .respond(status: 400, body: "no", delay: 0) }
        defer { bad.stop() }
        let badClient = ChatClient(config: ChatClientConfig(baseURL: bad.url, model: "m"))
        await #expect(throws: ChatClientError.self) { _ = try await badClient.stream(messages: [], options: GenerationOptions()) { _ in } }
        #expect(bad.requests.count == 1)
    }
}
