// ChatClient: an OpenAI-compatible chat-completions client with timeouts, retries, backoff, structured output.
import Foundation
import RecAlignFormats

/// How the answer is constrained to candidate ids.
public enum StructuredOutput: String, CaseIterable, Codable, Sendable {
    /// `response_format: {type: json_schema}` with an array whose items are an `enum` of the candidate ids.
    case jsonSchema = "json-schema"
    /// llama.cpp's `grammar` field (GBNF) allowing exactly N quoted candidate ids in a JSON list.
    case grammar
    /// No constraint; the parser copes with whatever comes back.
    case plain
}

/// Settings of a chat-completions client.
public struct ChatClientConfig: Sendable {
    /// Server root (`http://127.0.0.1:8080`), its `/v1`, or the full `/v1/chat/completions` URL.
    public var baseURL: URL
    public var model: String
    /// Sent as `Authorization: Bearer ...` when non-nil and non-empty.
    public var apiKey: String?
    /// Seconds one attempt may take in all (connect + answer).
    public var timeout: TimeInterval = 120
    /// Extra attempts after a timeout, a connection error, a 429 or a 5xx.
    public var retries: Int = 2
    /// First backoff in seconds; doubles after each failed attempt, capped by `maxBackoff`.
    public var backoff: TimeInterval = 0.5
    public var maxBackoff: TimeInterval = 8
    public var structured: StructuredOutput = .jsonSchema
    public var temperature: Double = 0
    public var maxTokens: Int = 256
    public var seed: Int? = 42
    /// OpenAI `presence_penalty` / `frequency_penalty`; sent only when set. Small models repeat one id
    /// (the schema cannot forbid repeats); a penalty spreads the answer over more candidates.
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    /// A JSON object whose fields are added to every request body (server-specific settings such as
    /// llama.cpp's `repeat_penalty`); its fields win over the client's own.
    public var extraBody: [String: JSONValue] = [:]

    public init(baseURL: URL, model: String, apiKey: String? = nil) {
        self.baseURL = baseURL; self.model = model; self.apiKey = apiKey
    }

    /// The chat-completions endpoint derived from `baseURL`.
    public var endpoint: URL {
        let s = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        if s.hasSuffix("/chat/completions") { return URL(string: s)! }
        if s.hasSuffix("/v1") { return URL(string: s + "/chat/completions")! }
        return URL(string: s + "/v1/chat/completions")!
    }
}

/// Why a request produced no answer.
public enum ChatClientError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No complete answer within the timeout (after all retries).
    case timeout(seconds: Double, attempts: Int)
    /// Could not connect / connection lost (after all retries).
    case connection(String, attempts: Int)
    /// A non-success HTTP status (after retries for 429 / 5xx; at once for other 4xx).
    case http(status: Int, body: String, attempts: Int)
    /// A 200 whose body is not a chat-completions answer.
    case badResponse(String)

    public var description: String {
        switch self {
        case let .timeout(s, n): return "no answer within \(s) s (\(n) attempt(s))"
        case let .connection(m, n): return "connection failed: \(m) (\(n) attempt(s))"
        case let .http(status, body, n): return "HTTP \(status) (\(n) attempt(s)): \(body.prefix(300))"
        case let .badResponse(m): return "unusable server answer: \(m)"
        }
    }
}

/// The text a model answered, and what it took.
public struct ChatAnswer: Sendable, Equatable {
    public var content: String
    /// HTTP attempts made (1 + retries used + structured-output downgrades).
    public var attempts: Int
    /// The constraint used by the successful attempt.
    public var structured: StructuredOutput
}

/// Anything that answers a chat prompt whose answer should rank `candidateIds` (a test double or a client).
public protocol ChatCompleting: Sendable {
    func complete(messages: [ChatMessage], candidateIds: [String], count: Int) async throws -> ChatAnswer
}

/// OpenAI-compatible client over async-http-client (`HTTPPost`). Thread-safe; many requests may be in flight.
///
/// Structured output: if the server rejects `response_format` or `grammar` (an HTTP 4xx whose body
/// mentions it), the request is retried as plain text at once, and every later request is sent plain.
public final class ChatClient: ChatCompleting, @unchecked Sendable {
    public let config: ChatClientConfig
    let lock = NSLock()
    var mode: StructuredOutput
    var sent = 0

    public init(config: ChatClientConfig) {
        self.config = config
        mode = config.structured
    }

    /// The structured-output mode currently in force (after any downgrade).
    public var currentMode: StructuredOutput { lock.lock(); defer { lock.unlock() }; return mode }
    /// HTTP requests sent so far (retries included).
    public var requestsSent: Int { lock.lock(); defer { lock.unlock() }; return sent }

    /// Sends the prompt; retries timeouts, connection errors, 429 and 5xx with exponential backoff.
    public func complete(messages: [ChatMessage], candidateIds: [String], count: Int) async throws -> ChatAnswer {
        let (data, attempts, mode) = try await send { m in
            try self.requestBody(messages: messages, candidateIds: candidateIds, count: count, mode: m)
        }
        return ChatAnswer(content: try ChatClient.content(of: data), attempts: attempts, structured: mode)
    }

    /// POSTs the body made for the current structured-output mode until a 2xx answer: timeouts, connection
    /// errors, 429 and 5xx are retried with exponential backoff; a 4xx naming the structured output downgrades
    /// to plain at once. Returns the answer body, the attempts made and the mode of the successful one.
    func send(_ body: (StructuredOutput) throws -> Data) async throws -> (Data, Int, StructuredOutput) {
        var attempts = 0
        var failures = 0
        var delay = config.backoff
        while true {
            let m = currentMode
            let payload = try body(m)
            attempts += 1
            let error: ChatClientError
            switch await attempt(payload) {
            case let .answered(status, data):
                if (200..<300).contains(status) { return (data, attempts, m) }
                let text = String(decoding: data, as: UTF8.self)
                if (400..<500).contains(status), status != 429, m != .plain, ChatClient.mentionsStructured(text) {
                    downgrade(from: m)
                    continue  // immediate plain retry; not counted against `retries`
                }
                if status != 429 && status < 500 { throw ChatClientError.http(status: status, body: text, attempts: attempts) }
                error = .http(status: status, body: text, attempts: attempts)
            case .timeout: error = .timeout(seconds: config.timeout, attempts: attempts)
            case let .connection(msg): error = .connection(msg, attempts: attempts)
            }
            failures += 1
            if failures > config.retries { throw error }
            try? await Task.sleep(nanoseconds: UInt64(max(delay, 0) * 1e9))
            delay = min(delay * 2, config.maxBackoff)
        }
    }

    func downgrade(from m: StructuredOutput) {
        lock.lock(); if mode == m { mode = .plain }; lock.unlock()
    }

    static func mentionsStructured(_ body: String) -> Bool {
        let b = body.lowercased()
        return ["response_format", "json_schema", "grammar", "schema"].contains { b.contains($0) }
    }

    /// The JSON body of a request.
    func requestBody(messages: [ChatMessage], candidateIds: [String], count: Int, mode: StructuredOutput) throws -> Data {
        var obj: [String: Any] = [
            "model": config.model,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "temperature": config.temperature,
            "max_tokens": config.maxTokens,
            "stream": false,
        ]
        if let s = config.seed { obj["seed"] = s }
        if let p = config.presencePenalty { obj["presence_penalty"] = p }
        if let f = config.frequencyPenalty { obj["frequency_penalty"] = f }
        let n = min(max(count, 1), max(candidateIds.count, 1))
        switch mode {
        case .jsonSchema where !candidateIds.isEmpty:
            obj["response_format"] = ChatClient.responseFormat(candidateIds: candidateIds, count: n)
        case .grammar where !candidateIds.isEmpty:
            obj["grammar"] = ChatClient.grammar(candidateIds: candidateIds, count: n)
        default: break
        }
        for (k, v) in config.extraBody { obj[k] = v.foundation }
        return try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    }

    /// `response_format` asking for a JSON list of exactly `count` ids drawn from `candidateIds`.
    public static func responseFormat(candidateIds: [String], count: Int) -> [String: Any] {
        [
            "type": "json_schema",
            "json_schema": [
                "name": "ranking",
                "schema": [
                    "type": "array",
                    "items": ["type": "string", "enum": candidateIds],
                    "minItems": count, "maxItems": count,
                ] as [String: Any],
            ] as [String: Any],
        ]
    }

    /// GBNF: `[` then exactly `count` quoted candidate ids separated by commas, then `]`.
    public static func grammar(candidateIds: [String], count: Int) -> String {
        func literal(_ id: String) -> String {
            // The JSON string "id", written as a GBNF string literal.
            var json = "\""
            for ch in id.unicodeScalars {
                switch ch {
                case "\"": json += "\\\""
                case "\\": json += "\\\\"
                default: json.unicodeScalars.append(ch)
                }
            }
            json += "\""
            return "\"" + json.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let items = Array(repeating: "id", count: max(count, 1)).joined(separator: " \",\" ws ")
        return """
        root ::= "[" ws \(items) ws "]"
        id ::= \(candidateIds.map(literal).joined(separator: " | "))
        ws ::= [ \\t\\n]*
        """
    }

    /// The first choice's message content of a chat-completions body.
    static func content(of data: Data) throws -> String {
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ChatClientError.badResponse("not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        guard let choices = obj["choices"] as? [[String: Any]], let first = choices.first else {
            throw ChatClientError.badResponse("no choices in \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        if let msg = first["message"] as? [String: Any] {
            if let c = msg["content"] as? String { return c }
            if let r = msg["reasoning_content"] as? String { return r }
        }
        if let t = first["text"] as? String { return t }
        throw ChatClientError.badResponse("no message content in the first choice")
    }

    /// The request headers (the API key when there is one).
    func headers(accept: String) -> [(String, String)] {
        var h = [("Content-Type", "application/json"), ("Accept", accept)]
        if let k = config.apiKey, !k.isEmpty { h.append(("Authorization", "Bearer \(k)")) }
        return h
    }

    enum AttemptResult: Sendable { case answered(Int, Data), timeout, connection(String) }

    func countRequest() { lock.lock(); sent += 1; lock.unlock() }

    /// One POST with a hard deadline.
    func attempt(_ body: Data) async -> AttemptResult {
        countRequest()
        switch await HTTPPost.post(url: config.endpoint, headers: headers(accept: "application/json"), body: body, timeout: config.timeout) {
        case let .answered(status, data): return .answered(status, data)
        case .timeout: return .timeout
        case let .connection(m): return .connection(m)
        }
    }
}
