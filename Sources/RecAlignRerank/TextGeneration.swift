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
