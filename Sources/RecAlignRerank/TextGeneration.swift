// TextGeneration: free-text answers (ratings, explanations, chat turns) from an OpenAI-compatible server.
import Foundation

/// Sampling settings of one free-text request.
public struct GenerationOptions: Sendable, Equatable {
    /// Upper bound on the answer's tokens.
    public var maxTokens: Int
    /// 0 is greedy (reproducible with a fixed seed).
    public var temperature: Double
    /// Generation stops before any of these strings.
    public var stop: [String]
    public init(maxTokens: Int = 128, temperature: Double = 0, stop: [String] = []) {
        self.maxTokens = maxTokens; self.temperature = temperature; self.stop = stop
    }
}

/// Anything that answers a conversation with free text (a test double or a client).
public protocol TextGenerating: Sendable {
    /// The assistant's reply to `messages` and the HTTP attempts it took.
    func generate(messages: [ChatMessage], options: GenerationOptions) async throws -> (text: String, attempts: Int)
}

/// Anything that streams a free-text answer piece by piece (a test double or a client).
public protocol TextStreaming: Sendable {
    /// Calls `onText` with each piece of the answer as it arrives; returns the whole answer.
    func stream(messages: [ChatMessage], options: GenerationOptions,
                onText: @escaping @Sendable (String) -> Void) async throws -> String
}

extension ChatClient: TextGenerating {
    /// One chat-completions request without structured output; retried like `complete`.
    public func generate(messages: [ChatMessage], options: GenerationOptions) async throws -> (text: String, attempts: Int) {
        let (data, attempts, _) = try await send { _ in try self.generationBody(messages: messages, options: options, stream: false) }
        return (try ChatClient.content(of: data), attempts)
    }

    /// The JSON body of a free-text request (`stream` for server-sent events).
    public func generationBody(messages: [ChatMessage], options: GenerationOptions, stream: Bool) throws -> Data {
        var obj: [String: Any] = [
            "model": config.model,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "temperature": options.temperature, "max_tokens": max(1, options.maxTokens), "stream": stream,
        ]
        if !options.stop.isEmpty { obj["stop"] = options.stop }
        if let s = config.seed { obj["seed"] = s }
        if let p = config.presencePenalty { obj["presence_penalty"] = p }
        if let f = config.frequencyPenalty { obj["frequency_penalty"] = f }
        for (k, v) in config.extraBody { obj[k] = v.foundation }
        return try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    }
}

extension ChatClient: TextStreaming {
    /// A streamed request (`stream: true`, server-sent events). Timeouts, connection errors, 429 and 5xx are
    /// retried like `complete` while nothing has arrived; once text was handed to `onText` a failure is thrown
    /// (a retry would repeat what the user already read). The deadline covers the whole answer.
    public func stream(messages: [ChatMessage], options: GenerationOptions,
                       onText: @escaping @Sendable (String) -> Void) async throws -> String {
        let body = try generationBody(messages: messages, options: options, stream: true)
        let collected = StreamedText()
        var failures = 0, attempts = 0
        var delay = config.backoff
        while true {
            countRequest()
            attempts += 1
            let outcome = await HTTPPost.stream(url: config.endpoint, headers: headers(accept: "text/event-stream"), body: body,
                                                timeout: config.timeout) { payload in
                guard let piece = ChatClient.streamedPiece(payload), !piece.isEmpty else { return }
                collected.append(piece)
                onText(piece)
            }
            let error: ChatClientError
            switch outcome {
            case let .answered(status, data):
                if (200..<300).contains(status) { return collected.text }
                let text = String(decoding: data, as: UTF8.self)
                error = .http(status: status, body: text, attempts: attempts)
                if status != 429 && status < 500 { throw error }
            case .timeout: error = .timeout(seconds: config.timeout, attempts: attempts)
            case let .connection(m): error = .connection(m, attempts: attempts)
            }
            failures += 1
            if !collected.text.isEmpty || failures > config.retries { throw error }
            try? await Task.sleep(nanoseconds: UInt64(max(delay, 0) * 1e9))
            delay = min(delay * 2, config.maxBackoff)
        }
    }

    /// The text of one streamed chunk: `choices[0].delta.content` (or `.text`); nil for `[DONE]` and chunks
    /// without text (the role chunk, the final usage chunk).
    static func streamedPiece(_ payload: String) -> String? {
        guard payload != "[DONE]",
              let obj = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
              let first = (obj["choices"] as? [[String: Any]])?.first else { return nil }
        if let d = first["delta"] as? [String: Any], let c = d["content"] as? String { return c }
        return first["text"] as? String
    }
}

/// Text collected from event-loop callbacks.
final class StreamedText: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func append(_ s: String) { lock.lock(); value += s; lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return value }
}
