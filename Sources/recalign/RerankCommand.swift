// RerankCommand: `recalign rerank`, an LLM reranks the retriever's candidates; retriever vs reranked metrics.
import ArgumentParser
import Foundation
import RecAlignFormats
import RecAlignRerank
import RecAlignMetrics

extension PromptKind: ExpressibleByArgument {}
extension LiuTask: ExpressibleByArgument {}
extension StructuredOutput: ExpressibleByArgument {}
extension RerankMode: ExpressibleByArgument {}

struct Rerank: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerank",
        abstract: "Rerank candidates.jsonl with an OpenAI-compatible LLM server (Chat-REC / Liu et al. prompts).",
        discussion: """
        Writes the reranked JSONL (the candidates.jsonl schema, candidates in reranked order, plus a \
        `rerank` object per line), prints retriever order vs reranked order (Recall@10, NDCG@10, MRR@10) \
        with the parse-failure and fallback counts, and writes that table to <out>.report.txt and a JSON \
        summary to <out>.summary.json. Users whose answer is unusable or whose request failed keep the \
        retriever's order and are counted. The first user is sent alone first: if that request cannot reach \
        the server (after --retries), the command stops with the error and writes nothing.

        Template files (--template): sections start with a line `[system]`, `[user]` or `[demo]`; a file \
        without them is the user message. Placeholders: {user_id} {profile} {history} {history_list} \
        {history_count} {last_item} {candidates} {candidate_ids} {k} {n} {demonstrations}; in [demo]: \
        {index} {history} {history_list} {history_count} {target} {target_id}.

        Local server: `Scripts/llm_server.sh start` then \
        `recalign rerank --candidates corpora/fixtures/candidates_small.jsonl --server http://127.0.0.1:8088 \
        --model SmolLM2-135M-Instruct --out runs/rerank.jsonl`. Any OpenAI-compatible endpoint: \
        `--server https://api.example.com/v1 --model NAME` with the key in $OPENAI_API_KEY (or --api-key-env).
        """)

    @Option(help: "candidates.jsonl from the retriever.") var candidates: String
    @Option(help: "listwise (one prompt, a list of ids back) | pointwise (a Yes/No question per candidate, ranked by log P(Yes) - log P(No) from the server's logprobs).")
    var mode: RerankMode = .listwise
    @Option(help: "Weight of the LLM's order in the reciprocal-rank fusion with the retriever's (0 = retriever, 1 = LLM); the output is in the fused order.")
    var fusionWeight: Double = 0.5
    @Option(help: "A reranked JSONL of validation users (this command's output on `export --split valid` candidates): the fusion weight is the one of 0, 0.1, ..., 1 with the best NDCG@10 there.")
    var fusionFrom: String?
    @Option(help: "top_logprobs asked for in pointwise mode (1-20).") var topLogprobs = 10
    @Option(help: "Prompt: chatrec | liu-zero | liu-few.") var prompt: PromptKind = .chatrec
    @Option(help: "Liu et al. task: sequential | direct.") var task: LiuTask = .sequential
    @Option(help: "Template file overriding the built-in prompt.") var template: String?
    @OptionGroup var llm: LLMServerOptions
    @Option(help: "Model name sent to the server.") var model: String?
    @Option(help: "Candidates shown to the model (K).") var topK = 20
    @Option(help: "Items the model is asked to return (N).") var topN = 10
    @Option(help: "Most recent history items shown.") var history = 10
    @Option(help: "Few-shot demonstrations (liu-few).") var shots = 3
    @Option(help: "Seed of the demonstration draw and of the server's sampler.") var seed = 42
    @Option(help: "Answer constraint: json-schema | grammar | plain.") var structured: StructuredOutput = .jsonSchema
    @Option(help: "max_tokens of each answer.") var maxTokens = 256
    @Option(help: "presence_penalty (not sent unless given).") var presencePenalty: Double?
    @Option(help: "frequency_penalty (not sent unless given).") var frequencyPenalty: Double?
    @Option(help: "Rerank only the first USERS records.") var limit: Int?
    @Option(help: "Output JSONL (reranked records; with --dry-run, the prompts).") var out: String
    @Flag(help: "Write the prompts ({user_id, messages} per line) and send nothing.") var dryRun = false
    @Flag(help: ArgumentHelp(
        "Keep the users already answered in --out or <out>.partial and rerank only the rest.",
        discussion: "--out is this command's finished output for the same candidates (e.g. with a smaller --limit), "
            + "matched line by line; <out>.partial is the checkpoint every run appends each answer to and removes "
            + "when it finishes, so an interrupted run leaves it behind; it is matched by user and candidates (a run "
            + "without --resume refuses to start while it exists). "
            + "Users whose request failed are asked again.")) var resume = false

    func validate() throws {
        if topK < 1 || topN < 1 { throw ValidationError("--top-k and --top-n must be at least 1") }
        if let l = limit, l < 1 { throw ValidationError("--limit must be at least 1") }
        if resume && dryRun { throw ValidationError("--resume and --dry-run do not go together") }
        try requireCount(history, atLeast: 0, "--history")
        try requireCount(shots, atLeast: 0, "--shots")
        try requireCount(maxTokens, atLeast: 1, "--max-tokens")
        if !(fusionWeight >= 0 && fusionWeight <= 1) { throw ValidationError("--fusion-weight must be between 0 and 1") }
        if !(1...20).contains(topLogprobs) { throw ValidationError("--top-logprobs must be between 1 and 20") }
        try llm.check(needsServer: !dryRun, model: model)
    }

    func run() async throws {
        let all = try RerankInput.load(path: candidates)
        let records = limit.map { Array(all.prefix($0)) } ?? all
        var options = PromptOptions()
        options.kind = prompt; options.task = task; options.topK = topK; options.topN = topN
        options.historyLength = history; options.shots = shots; options.seed = UInt64(truncatingIfNeeded: seed)
        let tmpl = try template.map { try PromptTemplate.read(path: $0) }
        let builder = PromptBuilder(options: options, template: tmpl, demonstrationPool: all)

        if dryRun {
            try writePrompts(records, builder)
            return
        }
        var config = try llm.config(model: model!, seed: seed)
        config.structured = structured; config.maxTokens = maxTokens
        config.presencePenalty = presencePenalty; config.frequencyPenalty = frequencyPenalty
        let weight = try fusionFrom.map { try chooseWeight(from: $0) } ?? fusionWeight
        let client = ChatClient(config: config)
        let pointwise = mode == .pointwise
            ? PointwiseScorer(template: tmpl ?? DefaultTemplates.pointwise, client: client, topK: topK,
                              historyLength: history, topLogprobs: topLogprobs)
            : nil
        let reranker = Reranker(builder: builder, client: client, concurrency: llm.concurrency, pointwise: pointwise)
        let total = records.count
        // A checkpoint left by an interrupted run is kept unless the user says what to do with it.
        let partialPath = RerankCheckpoint.path(for: out)
        if !resume, let size = (try? FileManager.default.attributesOfItem(atPath: partialPath))?[.size] as? Int, size > 0 {
            throw CommandFailure("\(partialPath) holds the answers of an interrupted run: add --resume to keep them, or delete it to start over")
        }
        var outcomes: [RerankOutcome?] = resume ? try ResumedRun.outcomes(path: out, records: records) : Array(repeating: nil, count: total)
        let pending = outcomes.indices.filter { outcomes[$0] == nil }
        if resume {
            let partial = FileManager.default.fileExists(atPath: partialPath) ? " and its .partial" : ""
            FileHandle.standardError.write(Data("resuming: \(total - pending.count) users kept from \(out)\(partial), \(pending.count) to rerank\n".utf8))
        }
        // The first user goes alone: a server that cannot be reached stops the command before anything is written.
        // Every answer is appended to <out>.partial as it arrives, so an interrupted run can be resumed.
        let checkpoint = RerankCheckpoint(out: out, keep: resume)
        let run = pending.isEmpty ? RerankRun(outcomes: [], counts: RerankCounts(), seconds: 0)
            : try await reranker.runCheckingServer(pending.map { records[$0] }, progress: { done, n in
                if done == n || done % 10 == 0 { FileHandle.standardError.write(Data("reranked \(done)/\(n)\n".utf8)) }
            }, finished: { [records, pending] j, o in
                checkpoint.append(RerankedRecord(record: records[pending[j]], outcome: o, fusionWeight: weight))
            })
        for (i, o) in zip(pending, run.outcomes) { outcomes[i] = o }
        let final = outcomes.map { $0! }
        var counts = RerankCounts()
        for o in final { counts.add(o.status) }
        let lines = zip(records, final).map { RerankedRecord(record: $0, outcome: $1, fusionWeight: weight) }
        try AtomicFile.write(try RerankedRecord.encode(lines), to: out)
        checkpoint.finish()
        let summary = RerankSummary(
            comparison: RerankComparison(records: records, outcomes: final, fusionWeight: weight), counts: counts,
            users: total, seconds: run.seconds, requestsPerSecond: run.requestsPerSecond,
            httpRequests: client.requestsSent, structuredOutput: mode == .pointwise ? "n/a (log-probabilities)" : client.currentMode.rawValue,
            model: model!, prompt: mode == .pointwise ? "pointwise" : prompt == .chatrec ? prompt.rawValue : "\(prompt.rawValue)/\(task.rawValue)",
            reused: total - pending.count)
        print(summary.table, terminator: "")
        if !pending.isEmpty, run.counts.transportFailures == pending.count, let why = run.outcomes.first?.error {
            FileHandle.standardError.write(Data("warning: every request failed (first error: \(why)); the output is the retriever's order\n".utf8))
        }
        try AtomicFile.write(summary.table, to: out + ".report.txt")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(summary), to: out + ".summary.json")
        print("wrote \(out), \(out).report.txt, \(out).summary.json")
    }

    /// `--fusion-from`: the weight chosen on another run's reranked validation users.
    func chooseWeight(from path: String) throws -> Double {
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("--fusion-from \(path): no such file") }
        let read = try RerankedFile.read(path).map { $0.record.retrieverRecordAndLLMOrder }
        let records = read.map(\.0), orders = read.map(\.1)
        if records.isEmpty { throw ValidationError("--fusion-from \(path): no records") }
        let w = RankFusion.chooseWeight(records: records, llmOrders: orders)
        FileHandle.standardError.write(Data("fusion weight \(w), chosen on \(records.count) users of \(path)\n".utf8))
        return w
    }

    /// `--dry-run`: one `{user_id, messages}` line per user.
    func writePrompts(_ records: [CandidateRecord], _ builder: PromptBuilder) throws {
        struct Line: Encodable {
            var userId: String
            var messages: [ChatMessage]
            enum CodingKeys: String, CodingKey { case userId = "user_id", messages }
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for r in records {
            data.append(try enc.encode(Line(userId: r.userId, messages: builder.messages(for: r))))
            data.append(0x0A)
        }
        try AtomicFile.write(data, to: out)
        print("wrote \(records.count) prompts to \(out)")
    }
}
