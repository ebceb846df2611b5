// LLMServerOptions: the OpenAI-compatible server options `rerank` and `generate` share, checked and turned into a client config.
import ArgumentParser
import Foundation
import RecAlignFormats
import RecAlignRerank

/// Where the LLM is and how requests to it are sent; `check` validates every field, `config` builds the client's.
struct LLMServerOptions: ParsableArguments {
    @Option(help: "Server base URL (root, /v1, or the full chat/completions URL).") var server: String?
    @Option(help: "Environment variable holding the API key.") var apiKeyEnv = "OPENAI_API_KEY"
    @Option(help: "Requests in flight at once.") var concurrency = 1
    @Option(help: "Seconds per attempt.") var timeout: Double = 120
    @Option(help: "Retries after a timeout, connection error, 429 or 5xx.") var retries = 2
    @Option(help: "Sampling temperature.") var temperature: Double = 0
    @Option(help: "JSON object merged into each request, e.g. '{\"repeat_penalty\": 1.3}' for llama.cpp.")
    var extraBody: String?

    /// Every field; `--server` and the model name (`model`, from the command's own option: `--model` in rerank
    /// and generate, `--llm-model` in chat, where `--model` is the encoder) only when requests will be sent.
    func check(needsServer: Bool, model: String?, modelOption: String = "--model") throws {
        try requireCount(concurrency, atLeast: 1, "--concurrency")
        try requireCount(retries, atLeast: 0, "--retries")
        if !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a positive number of seconds") }
        if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be >= 0") }
        if let e = extraBody, (try? JSONValue.object(from: e)) == nil { throw ValidationError("--extra-body must be a JSON object: \(e)") }
        guard needsServer else { return }
        guard let s = server else { throw ValidationError("--server URL is required (e.g. http://127.0.0.1:8088) unless --dry-run") }
        guard let url = URL(string: s), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw ValidationError("--server '\(s)' is not an http:// or https:// URL (write the scheme, e.g. http://\(s))")
        }
        if model == nil { throw ValidationError("\(modelOption) (the model name the server serves) is required unless --dry-run") }
    }

    /// The client configuration (after `check(needsServer: true, ...)`), the sampler seeded with `seed`.
    func config(model: String, seed: Int) throws -> ChatClientConfig {
        var c = ChatClientConfig(baseURL: URL(string: server!)!, model: model, apiKey: ProcessInfo.processInfo.environment[apiKeyEnv])
        c.timeout = timeout; c.retries = retries; c.temperature = temperature; c.seed = seed
        c.extraBody = try extraBody.map { try JSONValue.object(from: $0) } ?? [:]
        return c
    }
}
