// TokenLogProbs: the log-probabilities of a model's first answer token (OpenAI `logprobs` / `top_logprobs`).
import Foundation

/// One token a model could answer first, with its natural-log probability.
public struct TokenLogProb: Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public init(token: String, logprob: Double) { self.token = token; self.logprob = logprob }
}

/// Anything that returns the most likely first tokens of the answer to a prompt (a test double or a client).
public protocol TokenProbing: Sendable {
    /// The `top` most likely first answer tokens, most likely first, and the HTTP attempts it took.
    func firstTokenLogProbs(messages: [ChatMessage], top: Int) async throws -> (tokens: [TokenLogProb], attempts: Int)
}

extension ChatClient: TokenProbing {
    /// One chat-completions request with `max_tokens: 1`, `logprobs: true`, `top_logprobs: top`, temperature 0
    /// and no structured output (llama.cpp, vLLM and OpenAI answer it alike); retried like `complete`.
    public func firstTokenLogProbs(messages: [ChatMessage], top: Int) async throws -> (tokens: [TokenLogProb], attempts: Int) {
        let (data, attempts, _) = try await send { _ in try self.logProbBody(messages: messages, top: top) }
        return (try ChatClient.firstTokenLogProbs(of: data), attempts)
    }

    func logProbBody(messages: [ChatMessage], top: Int) throws -> Data {
        var obj: [String: Any] = [
            "model": config.model,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
            "temperature": 0, "max_tokens": 1, "stream": false,
            "logprobs": true, "top_logprobs": max(1, min(top, 20)),
        ]
        if let s = config.seed { obj["seed"] = s }
        for (k, v) in config.extraBody { obj[k] = v.foundation }
        return try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    }

    /// `choices[0].logprobs.content[0].top_logprobs` of a chat-completions body, most likely first.
    static func firstTokenLogProbs(of data: Data) throws -> [TokenLogProb] {
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let choices = obj["choices"] as? [[String: Any]], let first = choices.first else {
            throw ChatClientError.badResponse("no choices in \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        guard let lp = first["logprobs"] as? [String: Any], let content = lp["content"] as? [[String: Any]],
              let token = content.first, let top = token["top_logprobs"] as? [[String: Any]] else {
            throw ChatClientError.badResponse("the answer has no logprobs.content[0].top_logprobs (does the server support `logprobs`?)")
        }
        let out = top.compactMap { t -> TokenLogProb? in
            guard let s = t["token"] as? String, let l = (t["logprob"] as? NSNumber)?.doubleValue, l.isFinite || l == -.infinity
            else { return nil }
            return TokenLogProb(token: s, logprob: l)
        }
        return out.sorted { $0.logprob > $1.logprob }
    }
}

/// The pointwise relevance score of a Yes/No answer.
public enum YesNoScore {
    /// log P(yes) - log P(no) of the first answer token, where P(yes) sums the listed tokens that read "yes"
    /// once trimmed of spaces and punctuation, in any case (" Yes", "yes", "YES."), and P(no) likewise.
    /// A side absent from the list is bounded by the least likely listed token (it was not among the top),
    /// so "No" at 0.9 with no "Yes" in the top 10 still ranks below "No" at 0.6. nil when neither appears.
    public static func score(_ top: [TokenLogProb]) -> Double? {
        var yes: [Double] = [], no: [Double] = []
        for t in top {
            let w = t.token.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)).lowercased()
            if w == "yes" { yes.append(t.logprob) } else if w == "no" { no.append(t.logprob) }
        }
        if yes.isEmpty && no.isEmpty { return nil }
        let floor = top.map(\.logprob).min() ?? 0
        return (yes.isEmpty ? floor : logSumExp(yes)) - (no.isEmpty ? floor : logSumExp(no))
    }

    static func logSumExp(_ x: [Double]) -> Double {
        guard let m = x.max(), m.isFinite else { return x.max() ?? -.infinity }
        return m + log(x.reduce(0) { $0 + exp($1 - m) })
    }
}
