// GenerationRunner: sends many free-text prompts under a concurrency limit; failures are answers, not throws.
import Foundation

/// One prompt's free-text answer, or why there is none.
public struct GeneratedText: Sendable, Equatable {
    /// The reply (nil: the request failed).
    public var text: String?
    /// The transport failure (timeout, unreachable server, HTTP error, unusable body), when `text` is nil.
    public var error: String?
    public var attempts: Int
    public var seconds: Double
    public init(text: String?, error: String? = nil, attempts: Int = 1, seconds: Double = 0) {
        self.text = text; self.error = error; self.attempts = attempts; self.seconds = seconds
    }
}

/// Why a generation run stopped before it began.
public enum GenerationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The first prompt's request failed at the transport level; nothing more was sent.
    case unreachable(reason: String)
    public var description: String {
        switch self {
        case let .unreachable(reason):
            return "the LLM server did not answer the first request: \(reason); stopped before the others"
        }
    }
}

/// Runs prompts through a `TextGenerating` (a `ChatClient` or a test double) with at most `concurrency`
/// requests in flight (a task group refilled as each one finishes), answers in input order.
public struct GenerationRunner: Sendable {
    public let generator: TextGenerating
    public let options: GenerationOptions
    public let concurrency: Int

    public init(generator: TextGenerating, options: GenerationOptions, concurrency: Int = 1) {
        self.generator = generator; self.options = options; self.concurrency = max(concurrency, 1)
    }

    /// One prompt; a thrown error becomes a `GeneratedText` without text.
    public func generate(_ messages: [ChatMessage]) async -> GeneratedText {
        let start = Date()
        do {
            let (text, attempts) = try await generator.generate(messages: messages, options: options)
            return GeneratedText(text: text, error: nil, attempts: attempts, seconds: Date().timeIntervalSince(start))
        } catch {
            let attempts: Int
            switch error as? ChatClientError {
            case let .timeout(_, n)?, let .connection(_, n)?, let .http(_, _, n)?: attempts = n
            default: attempts = 1
            }
            return GeneratedText(text: nil, error: "\(error)", attempts: attempts, seconds: Date().timeIntervalSince(start))
        }
    }

    /// All prompts, the first alone as the server check: when its request fails at the transport level,
    /// nothing more is sent and `GenerationError.unreachable` is thrown. Later failures are returned, counted
    /// by the caller. `progress(done, total)` is called after each answer.
    public func runCheckingServer(_ prompts: [[ChatMessage]], progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> [GeneratedText] {
        guard let head = prompts.first else { return [] }
        let first = await generate(head)
        if first.text == nil { throw GenerationError.unreachable(reason: first.error ?? "no answer") }
        progress?(1, prompts.count)
        let rest = await run(Array(prompts.dropFirst())) { done, n in progress?(done + 1, n + 1) }
        return [first] + rest
    }

    /// All prompts with at most `concurrency` in flight; answers in input order.
    public func run(_ prompts: [[ChatMessage]], progress: (@Sendable (Int, Int) -> Void)? = nil) async -> [GeneratedText] {
        var out = [GeneratedText?](repeating: nil, count: prompts.count)
        await withTaskGroup(of: (Int, GeneratedText).self) { group in
            var next = 0, done = 0
            func add() {
                let i = next, p = prompts[i]
                group.addTask { (i, await self.generate(p)) }
                next += 1
            }
            while next < prompts.count && next < concurrency { add() }
            while let (i, g) = await group.next() {
                out[i] = g
                done += 1
                progress?(done, prompts.count)
                if next < prompts.count { add() }
            }
        }
        return out.map { $0! }
    }
}
