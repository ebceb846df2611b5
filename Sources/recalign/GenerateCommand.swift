// GenerateCommand: `recalign generate`, Liu et al.'s rating prediction and explanation generation with an LLM.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignFormats
import RecAlignMetrics
import RecAlignRerank
import RecAlignRetrieval

/// The two free-text tasks.
enum GenerateTask: String, CaseIterable, ExpressibleByArgument { case rating, explain }

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Ask an LLM for ratings (--task rating) or explanations (--task explain), measured against baselines / the history.",
        discussion: """
        rating: each user's test interaction (PROTOCOL: the last one). The prompt shows the user's last --history \
        rated items (titles with ratings) and, with --shots k, k earlier train ratings of the same user as \
        question/answer turns; the first number on the rating scale in the answer is the prediction, and an \
        unusable answer or failed request falls back to the user mean (both counted). Global mean, user mean \
        and biased MF (ALS; factors, λ and sweeps chosen on the validation ratings) predict the same \
        interactions; the report gives RMSE and MAE of each on the same --limit users.

        explain: for each user of --candidates (candidates.jsonl) and each of the first --top candidates, one \
        sentence on why the user may like it, the prompt listing the user's last --history items. Each is \
        checked: grounded (names a title or genre of that history) and hallucinated (a quoted or \
        "Title (YEAR)" mention that is no catalog title).

        Writes --out (JSONL, one line per question), <out>.report.txt and <out>.summary.json. --dry-run writes \
        the prompts instead and sends nothing (rating: the baselines' table is still printed).
        """)

    @Option(help: "rating | explain.") var task: GenerateTask
    @OptionGroup var corpus: CorpusOptions
    @Option(help: "explain: candidates.jsonl (the export format) whose users and top items are explained.") var candidates: String?
    @Option(help: "explain: candidates explained per user, from the top (default 1).") var top: Int?
    @Option(help: "rating: 0 = zero-shot, k = k of the user's own train ratings as demonstrations (default 0).") var shots: Int?
    @Option(help: "Most recent history items shown (rating: with their ratings; 0 = none).") var history = 10
    @Option(help: "Seed of the demonstration draw, the MF start and the server's sampler.") var seed = 42
    @OptionGroup var llm: LLMServerOptions
    @Option(help: "Model name sent to the server.") var model: String?
    @Option(help: "max_tokens of each answer (default: rating 32, explain 96).") var maxTokens: Int?
    @Option(help: "Only the first USERS users (rating: by user row; explain: records of --candidates).") var limit: Int?
    @Option(help: "Output JSONL (with --dry-run, the prompts).") var out: String
    @Flag(help: "Write the prompts ({user_id, item_id, messages} per line) and send nothing.") var dryRun = false

    func validate() throws {
        switch task {
        case .rating:
            if candidates != nil { throw ValidationError("--candidates is for --task explain (rating asks about each user's test item)") }
            if top != nil { throw ValidationError("--top is for --task explain") }
            try requireCount(shots ?? 0, atLeast: 0, "--shots")
            try requireCount(history, atLeast: 0, "--history")
        case .explain:
            guard let c = candidates else { throw ValidationError("--task explain needs --candidates FILE (candidates.jsonl, e.g. from `recalign export`)") }
            guard FileManager.default.fileExists(atPath: c) else { throw ValidationError("--candidates \(c): no such file") }
            if shots != nil { throw ValidationError("--shots is for --task rating") }
            try requireCount(top ?? 1, atLeast: 1, "--top")
            try requireCount(history, atLeast: 1, "--history")
        }
        try requireCount(maxTokens ?? 1, atLeast: 1, "--max-tokens")
        if let l = limit { try requireCount(l, atLeast: 1, "--limit") }
        if out.isEmpty { throw ValidationError("--out must name a file") }
        try llm.check(needsServer: !dryRun, model: model)
    }

    func run() async throws {
        let prepared = try corpus.load()
        let catalog = MovieCatalog(dataset: prepared.dataset, fallbackTexts: prepared.itemTexts)
        switch task {
        case .rating: try await runRating(prepared, catalog)
        case .explain: try await runExplain(prepared, catalog)
        }
    }

    /// Rating prediction: the baselines, then (unless --dry-run) the LLM, on the same test interactions.
    func runRating(_ prepared: PreparedCorpus, _ catalog: MovieCatalog) async throws {
        let ratings: RatingSplit
        do { ratings = try RatingSplit(dataset: prepared.dataset, split: prepared.split) } catch { throw CommandFailure("\(error)") }
        let base = try RatingBaselines.run(ratings, itemCount: prepared.itemCount, stage: .test, seed: UInt64(truncatingIfNeeded: seed))
        let n = min(limit ?? ratings.userCount, ratings.userCount)
        let cases = RatingCase.build(ratings: ratings, catalog: catalog, userIds: prepared.split.userIds, users: 0..<n,
                                     historyLength: history, shots: shots ?? 0, seed: UInt64(truncatingIfNeeded: seed),
                                     fallback: base.userMean,
                                     baselines: [("global mean", base.globalMean), ("user mean", base.userMean), ("MF", base.mf)])
        var setup = ["corpus \(corpus.corpus): test interactions of the first \(n) of \(ratings.userCount) users; scale "
                     + "\(RatingPrompt.format(ratings.scale.lowerBound))-\(RatingPrompt.format(ratings.scale.upperBound))",
                     "MF: \(base.chosen.config) (validation RMSE \(String(format: "%.4f", base.chosen.validRMSE)) over "
                     + "\(ratings.userCount) users; \(base.grid.count) grid points)"]
        if dryRun { try writePrompts(cases.map { ($0.userId, $0.itemId, $0.messages) }) }
        // Without an LLM (--dry-run) each line carries the baselines only.
        var lines = cases.map { RatingLine($0, GeneratedText(text: nil, attempts: 0), parser: RatingParser(scale: ratings.scale)) }
        var llmRow: String? = nil
        if !dryRun {
            let start = Date()
            let answers = try await generate(cases.map(\.messages), maxTokens: maxTokens ?? 32, what: "rated")
            setup.append("LLM: \(model!) at \(llm.server!); \(shots ?? 0)-shot, history \(history), temperature \(llm.temperature); "
                         + GenerateTiming(answers, seconds: Date().timeIntervalSince(start)).text)
            let parser = RatingParser(scale: ratings.scale)
            lines = zip(cases, answers).map { RatingLine($0, $1, parser: parser) }
            llmRow = "LLM \((shots ?? 0) == 0 ? "zero-shot" : "\(shots!)-shot")"
            try AtomicFile.write(try jsonl(lines), to: out)
        }
        let report = RatingReport(lines: lines, baselineNames: ["global mean", "user mean", "MF"], llm: llmRow, setup: setup)
        struct Summary: Encodable { var report: RatingReport; var mfGrid: [MFGridPoint]
            enum CodingKeys: String, CodingKey { case report, mfGrid = "mf_grid" } }
        try finish(report.table, Summary(report: report, mfGrid: base.grid), wrote: dryRun ? [] : [out])
    }

    /// Explanations of each user's top candidates, checked for grounding and hallucinated titles.
    func runExplain(_ prepared: PreparedCorpus, _ catalog: MovieCatalog) async throws {
        let path = candidates!
        let (all, allLines) = try RerankInput.loadWithLines(path: path)
        let n = min(limit ?? all.count, all.count)
        let cases = try ExplanationCase.build(records: Array(all.prefix(n)), lines: allLines, path: path, catalog: catalog,
                                              top: top ?? 1, historyLength: history)
        if dryRun {
            try writePrompts(cases.map { ($0.userId, $0.itemId, $0.messages) })
            return
        }
        let start = Date()
        let answers = try await generate(cases.map(\.messages), maxTokens: maxTokens ?? 96, what: "explained")
        let timing = GenerateTiming(answers, seconds: Date().timeIntervalSince(start))
        let check = ExplanationCheck(catalog: catalog)
        let lines = zip(cases, answers).map { ExplanationLine($0, $1, check: check) }
        try AtomicFile.write(try jsonl(lines), to: out)
        let report = ExplanationReport(lines: lines, setup: [
            "candidates \(path): first \(n) of \(all.count) users, top \(top ?? 1) each; history \(history) titles",
            "LLM: \(model!) at \(llm.server!); temperature \(llm.temperature); \(timing.text)"])
        try finish(report.table, report, wrote: [out])
    }

    /// Sends the prompts (the first alone, as the server check) with --concurrency in flight.
    func generate(_ prompts: [[ChatMessage]], maxTokens: Int, what: String) async throws -> [GeneratedText] {
        let config = try llm.config(model: model!, seed: seed)
        let runner = GenerationRunner(generator: ChatClient(config: config),
                                      options: GenerationOptions(maxTokens: maxTokens, temperature: llm.temperature), concurrency: llm.concurrency)
        do {
            return try await runner.runCheckingServer(prompts) { done, total in
                if done == total || done % 10 == 0 { FileHandle.standardError.write(Data("\(what) \(done)/\(total)\n".utf8)) }
            }
        } catch let e as GenerationError { throw CommandFailure(e.description) }
    }

    /// Wall time of a run and the mean seconds per request, for the report.
    struct GenerateTiming {
        let text: String
        init(_ answers: [GeneratedText], seconds: Double) {
            let mean = answers.isEmpty ? 0 : answers.reduce(0) { $0 + $1.seconds } / Double(answers.count)
            text = String(format: "%d requests in %.0f s (%.1f s each)", answers.count, seconds, mean)
        }
    }

    /// Prints the table and writes it to <out>.report.txt, the report as JSON to <out>.summary.json.
    func finish<R: Encodable>(_ table: String, _ report: R, wrote: [String]) throws {
        print(table, terminator: "")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(table, to: out + ".report.txt")
        try AtomicFile.write(try enc.encode(report), to: out + ".summary.json")
        print("wrote " + (wrote + [out + ".report.txt", out + ".summary.json"]).joined(separator: ", "))
    }

    /// `--dry-run`: one `{user_id, item_id, messages}` line per question.
    func writePrompts(_ prompts: [(String, String, [ChatMessage])]) throws {
        struct Line: Encodable {
            var userId: String, itemId: String, messages: [ChatMessage]
            enum CodingKeys: String, CodingKey { case userId = "user_id", itemId = "item_id", messages }
        }
        try AtomicFile.write(try jsonl(prompts.map { Line(userId: $0.0, itemId: $0.1, messages: $0.2) }), to: out)
        print("wrote \(prompts.count) prompts to \(out)")
    }

    func jsonl<T: Encodable>(_ lines: [T]) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for l in lines { data.append(try enc.encode(l)); data.append(0x0A) }
        return data
    }
}
