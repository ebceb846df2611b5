// ChatClientTests: the client against a scripted local HTTP server: slow, failing, garbage and correct answers.
import Foundation
import RecAlignFormats
import Testing
@testable import RecAlignRerank
import RecAlignMetrics
import RecAlignTestSupport

@Suite struct ChatClientTests {
    static let msgs = [ChatMessage(role: "user", content: "rank them")]
    static let ids = ["1", "2", "3"]

    static func client(_ url: URL, timeout: Double = 2, retries: Int = 2,
                       mode: StructuredOutput = .jsonSchema) -> ChatClient {
        var c = ChatClientConfig(baseURL: url, model: "smol", apiKey: "sk-test")
        c.timeout = timeout; c.retries = retries; c.backoff = 0.05; c.structured = mode
        return ChatClient(config: c)
    }

    static func json(_ s: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] ?? [:]
    }

    @Test func correctAnswerAndRequestShape() async throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 200, body: LocalHTTPServer.chatBody(#"["2","1"]"#), delay: 0) }
        defer { server.stop() }
        let a = try await Self.client(server.url).complete(messages: Self.msgs, candidateIds: Self.ids, count: 2)
        #expect(a == ChatAnswer(content: #"["2","1"]"#, attempts: 1, structured: .jsonSchema))
        let req = server.requests[0]
        #expect(req.head.hasPrefix("POST /v1/chat/completions HTTP/1.1"))
        #expect(req.head.contains("Authorization: Bearer sk-test"))
        let body = Self.json(req.body)
        #expect(body["model"] as? String == "smol")
        #expect((body["messages"] as? [[String: String]]) == [["role": "user", "content": "rank them"]])
        let rf = body["response_format"] as? [String: Any]
        #expect(rf?["type"] as? String == "json_schema")
        let schema = (rf?["json_schema"] as? [String: Any])?["schema"] as? [String: Any]
        #expect(schema?["type"] as? String == "array")
        #expect((schema?["items"] as? [String: Any])?["enum"] as? [String] == Self.ids)
        #expect(schema?["minItems"] as? Int == 2 && schema?["maxItems"] as? Int == 2)
        #expect(body["grammar"] == nil)
    }

    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        let server = try LocalHTTPServer { i, _ in
            i < 2 ? .respond(status: 500, body: "boom", delay: 0) : .respond(status: 200, body: LocalHTTPServer.chatBody("[\"3\"]"), delay: 0)
        }
        defer { server.stop() }
        let start = Date()
        let a = try await Self.client(server.url, retries: 2).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        #expect(a.content == "[\"3\"]" && a.attempts == 3)
        #expect(server.requests.count == 3)
        #expect(Date().timeIntervalSince(start) >= 0.05 + 0.1 - 0.01)  // backoff 0.05 then 0.1
    }

    @Test func persistentServerErrorGivesUpAfterRetries() async throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 503, body: "busy", delay: 0) }
        defer { server.stop() }
        await #expect(throws: ChatClientError.http(status: 503, body: "busy", attempts: 2)) {
            try await Self.client(server.url, retries: 1).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        }
        #expect(server.requests.count == 2)
    }

    @Test func rateLimitIsRetried() async throws {
        let server = try LocalHTTPServer { i, _ in
            i == 0 ? .respond(status: 429, body: "slow down", delay: 0) : .respond(status: 200, body: LocalHTTPServer.chatBody("[]"), delay: 0)
        }
        defer { server.stop() }
        let a = try await Self.client(server.url).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        #expect(a.attempts == 2)
    }

    @Test func slowServerTimesOutAndIsRetried() async throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 200, body: LocalHTTPServer.chatBody("[]"), delay: 3) }
        defer { server.stop() }
        let start = Date()
        await #expect(throws: ChatClientError.timeout(seconds: 0.4, attempts: 2)) {
            try await Self.client(server.url, timeout: 0.4, retries: 1).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        }
        let took = Date().timeIntervalSince(start)
        // Two attempts that each timed out after 0.4 s (the error says so); no upper bound on the wall time:
        // the test server answers one request at a time and the machine may be loaded.
        #expect(took >= 0.8)
        #expect(server.requests.count == 2)
    }

    @Test func slowFirstAnswerThenFastSucceeds() async throws {
        let server = try LocalHTTPServer { i, _ in
            .respond(status: 200, body: LocalHTTPServer.chatBody(#"["1"]"#), delay: i == 0 ? 3 : 0)
        }
        defer { server.stop() }
        let a = try await Self.client(server.url, timeout: 0.4, retries: 2).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        #expect(a.attempts == 2 && a.content == #"["1"]"#)
    }

    @Test func garbageBodyIsABadResponseNotRetried() async throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 200, body: "<html>nope", delay: 0) }
        defer { server.stop() }
        await #expect(throws: ChatClientError.self) {
            try await Self.client(server.url).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        }
        #expect(server.requests.count == 1)
    }

    @Test func droppedConnectionsAndDeadServerAreConnectionErrors() async throws {
        let server = try LocalHTTPServer { _, _ in .drop }
        defer { server.stop() }
        do {
            _ = try await Self.client(server.url, retries: 1).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
            Issue.record("expected a failure")
        } catch let e as ChatClientError {
            switch e {
            case let .connection(_, n): #expect(n == 2)
            default: Issue.record("expected a connection error, got \(e)")
            }
        }
        #expect(server.requests.count == 2)
        let dead = URL(string: "http://127.0.0.1:\(try LocalHTTPServer.deadPort())")!
        do {
            _ = try await Self.client(dead, retries: 1).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
            Issue.record("expected a failure")
        } catch let e as ChatClientError {
            if case let .connection(_, n) = e { #expect(n == 2) } else { Issue.record("got \(e)") }
        }
    }

    @Test func rejectedResponseFormatFallsBackToPlainAndRemembers() async throws {
        let server = try LocalHTTPServer { _, req in
            req.body.contains("response_format")
                ? .respond(status: 400, body: #"{"error":{"message":"response_format type must be one of text or json_object"}}"#, delay: 0)
                : .respond(status: 200, body: LocalHTTPServer.chatBody("1. [2]"), delay: 0)
        }
        defer { server.stop() }
        let c = Self.client(server.url, retries: 0)
        let a = try await c.complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        #expect(a.structured == .plain && a.attempts == 2 && a.content == "1. [2]")
        #expect(c.currentMode == .plain)
        _ = try await c.complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        #expect(server.requests.count == 3)  // the second call went plain at once
        #expect(!server.requests[2].body.contains("response_format"))
    }

    @Test func otherClientErrorsFailAtOnce() async throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 404, body: "no such model", delay: 0) }
        defer { server.stop() }
        await #expect(throws: ChatClientError.http(status: 404, body: "no such model", attempts: 1)) {
            try await Self.client(server.url).complete(messages: Self.msgs, candidateIds: Self.ids, count: 1)
        }
    }

    @Test func grammarModeSendsGBNF() async throws {
        let server = try LocalHTTPServer { _, _ in .respond(status: 200, body: LocalHTTPServer.chatBody("[]"), delay: 0) }
        defer { server.stop() }
        _ = try await Self.client(server.url, mode: .grammar).complete(messages: Self.msgs, candidateIds: ["1", "2"], count: 2)
        let body = Self.json(server.requests[0].body)
        #expect(body["response_format"] == nil)
        #expect(body["grammar"] as? String == """
        root ::= "[" ws id "," ws id ws "]"
        id ::= "\\"1\\"" | "\\"2\\""
        ws ::= [ \\t\\n]*
        """)
        #expect(ChatClient.grammar(candidateIds: [#"a"b"#], count: 1).contains(#"id ::= "\"a\\\"b\"""#))
    }

    @Test func endpointFromBaseURL() {
        func ep(_ s: String) -> String { ChatClientConfig(baseURL: URL(string: s)!, model: "m").endpoint.absoluteString }
        #expect(ep("http://h:1") == "http://h:1/v1/chat/completions")
        #expect(ep("http://h:1/") == "http://h:1/v1/chat/completions")
        #expect(ep("https://api.x.com/v1") == "https://api.x.com/v1/chat/completions")
        #expect(ep("http://h/v1/chat/completions") == "http://h/v1/chat/completions")
    }

    /// The whole pipeline over HTTP: answers per user decide ok / parse failure / transport failure.
    @Test func rerankerOverHTTPCountsFallbacks() async throws {
        let recs = Array(try Fixture.records().prefix(4))
        let server = try LocalHTTPServer { _, req in
            let user = req.body.components(separatedBy: "USER=")[1].prefix { $0.isNumber }
            switch user {
            case "196": return .respond(status: 200, body: LocalHTTPServer.chatBody(#"["121","69"]"#), delay: 0)
            case "186": return .respond(status: 200, body: LocalHTTPServer.chatBody("¯\\_(ツ)_/¯"), delay: 0)
            case "22": return .respond(status: 500, body: "down", delay: 0)
            default: return .respond(status: 200, body: LocalHTTPServer.chatBody("<<<"), delay: 2)
            }
        }
        defer { server.stop() }
        var o = PromptOptions(); o.topN = 2
        let builder = PromptBuilder(options: o, template: PromptTemplate(system: "", user: "USER={user_id}"))
        let client = Self.client(server.url, timeout: 0.5, retries: 1)
        let run = await Reranker(builder: builder, client: client, concurrency: 2).run(recs)
        #expect(run.outcomes.map(\.status) == [.ok, .parseFailure, .transportFailure, .transportFailure])
        #expect(run.counts.fallbacks == 3)
        #expect(Array(run.outcomes[0].order.prefix(3)) == ["121", "69", recs[0].candidates[1].itemId])
        #expect(client.requestsSent == 1 + 1 + 2 + 2)
    }
}

/// Against the real llama-server (Scripts/llm_server.sh start), when RECALIGN_LLM_URL is set.
@Suite struct LiveServerTests {
    static let url = ProcessInfo.processInfo.environment["RECALIGN_LLM_URL"]

    @Test(.enabled(if: url != nil, "set RECALIGN_LLM_URL (e.g. http://127.0.0.1:8088) to run"))
    func smolLM2RerankFiveUsers() async throws {
        let recs = Array(try Fixture.records().prefix(5))
        var c = ChatClientConfig(baseURL: URL(string: Self.url!)!, model: "SmolLM2-135M-Instruct")
        c.timeout = 180; c.retries = 1
        let client = ChatClient(config: c)
        let builder = PromptBuilder(options: PromptOptions(), demonstrationPool: recs)
        let run = await Reranker(builder: builder, client: client, concurrency: 1).run(recs)
        #expect(run.counts.transportFailures == 0, "\(run.outcomes.compactMap(\.error))")
        #expect(run.counts.total == 5)
        if client.currentMode == .jsonSchema { #expect(run.counts.parseFailures == 0) }
        for (r, o) in zip(recs, run.outcomes) {
            #expect(o.order.sorted() == r.candidates.map(\.itemId).sorted())
        }
    }
}

@Suite struct RequestOptionsTests {
    @Test func penaltiesAndExtraBodyAreSentOnlyWhenGiven() throws {
        var c = ChatClientConfig(baseURL: URL(string: "http://127.0.0.1:1")!, model: "m")
        let plain = try ChatClient(config: c).requestBody(messages: [], candidateIds: ["1"], count: 1, mode: .plain)
        let p = try JSONSerialization.jsonObject(with: plain) as! [String: Any]
        #expect(p["presence_penalty"] == nil && p["frequency_penalty"] == nil && p["repeat_penalty"] == nil)
        #expect(p["temperature"] as? Double == 0 && p["max_tokens"] as? Int == 256 && p["seed"] as? Int == 42)
        c.presencePenalty = 0.5; c.frequencyPenalty = 1
        c.extraBody = try JSONValue.object(from: #"{"repeat_penalty": 1.3, "top_k": 5, "cache_prompt": true, "temperature": 0.7}"#)
        let body = try ChatClient(config: c).requestBody(messages: [], candidateIds: ["1"], count: 1, mode: .plain)
        let b = try JSONSerialization.jsonObject(with: body) as! [String: Any]
        #expect(b["presence_penalty"] as? Double == 0.5 && b["frequency_penalty"] as? Double == 1)
        #expect(b["repeat_penalty"] as? Double == 1.3 && b["top_k"] as? Int == 5 && b["cache_prompt"] as? Bool == true)
        #expect(b["temperature"] as? Double == 0.7)  // extra fields win
        #expect(throws: ChatClientError.self) { try JSONValue.object(from: "[1]") }
    }
}
