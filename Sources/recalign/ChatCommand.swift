// ChatCommand: `recalign chat` — Chat-REC's conversation in the terminal: retrieve, rerank, explain, answer back.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignModels
import RecAlignRerank
import RecAlignRetrieval
import RecAlignSources

struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to the recommender: each request is blended with your taste, retrieved, reranked and explained by an LLM.",
        discussion: """
        For a corpus user (--user, the history visible at test time) or a typed list of liked titles (--liked \
        "Heat; Fargo"). Each turn the message is encoded by the encoder (--tuned: any tuned folder, adapter or \
        head) and blended with the user's vector (--blend), the --candidates best items are retrieved (your \
        history and rejected items never), the LLM picks --show of them (constrained to their ids) and explains \
        them, streamed; a line that names a film outside the catalog is not shown. Type a request ("like Heat, but \
        lighter"), "more", "no 2" / "not Heat" (never again), "why 2", "help"; Ctrl-D or "quit" ends. Without \
        --server the retriever's order is shown, unexplained.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: "A tuned model folder, adapter folder (RecAlign's or PEFT's) or head folder, as `export --tuned`.") var tuned: String?
    @Option(help: "User id as in the corpus (the history visible at test time).") var user: String?
    @Option(help: "Liked titles separated by ';' (instead of --user), e.g. \"Heat; Fargo\".") var liked: String?
    @Option(help: "Items retrieved per turn and reranked by the LLM.") var candidates = 10
    @Option(help: "Items shown per turn.") var show = 3
    @Option(help: "Weight of the request's standardised scores against the user's (0: taste only, 1: request only).") var blend: Float = 0.5
    @Option(help: "History items shown to the LLM (the most recent).") var history = 10
    @Option(help: "Estimated prompt tokens kept (older dialogue turns are dropped first).") var contextTokens = 3000
    @Option(help: "max_tokens of a list's explanations.") var explanationTokens = 200
    @Option(help: "Token budget of the user text (text towers).") var userMaxLength = 128
    @OptionGroup var llm: LLMServerOptions
    @Option(help: "Model name sent to the LLM server (--model is the encoder).") var llmModel: String?

    func validate() throws {
        if let t = tuned, !FileManager.default.fileExists(atPath: t) { throw ValidationError("--tuned \(t): no such folder") }
        if (user == nil) == (liked == nil) { throw ValidationError("give exactly one of --user ID and --liked \"Title; Title\"") }
        if let l = liked, l.split(separator: ";").allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("--liked names no title")
        }
        try requireCount(candidates, atLeast: 1, "--candidates")
        try requireCount(show, atLeast: 1, "--show")
        if show > candidates { throw ValidationError("--show (\(show)) must not exceed --candidates (\(candidates))") }
        if !(blend >= 0 && blend <= 1) { throw ValidationError("--blend must be in [0, 1]") }
        try requireCount(history, atLeast: 1, "--history")
        try requireCount(contextTokens, atLeast: 256, "--context-tokens")
        try requireCount(explanationTokens, atLeast: 16, "--explanation-tokens")
        try requireCount(userMaxLength, atLeast: 8, "--user-max-length")
        try llm.check(needsServer: llm.server != nil, model: llmModel, modelOption: "--llm-model")
    }

    func run() async throws {
        let corpus = try corpusOptions.load()
        let catalog = MovieCatalog(dataset: corpus.dataset, fallbackTexts: corpus.itemTexts)
        let rows = try historyRows(corpus, catalog)
        let source = tuned.map { TunedSource(path: $0) }
        let encoder = modelOptions.prepared(try source?.encoder(base: modelOptions.model, maxLength: modelOptions.maxLength)
            ?? SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength))
        let towers = TextTowers(encoder: encoder, corpus: corpus, userMaxLength: userMaxLength, batchSize: modelOptions.batchSize)
        let retriever = try QueryRetriever(source: source, towers: towers, history: rows.map(Int32.init))
        var settings = ChatSettings()
        settings.candidates = candidates; settings.show = show; settings.explanationTokens = explanationTokens
        let client = try llm.server.map { _ in ChatClient(config: try llm.config(model: llmModel!, seed: 42)) }
        let blend = blend
        let engine = ChatEngine(
            session: ChatSession(catalog: catalog, history: rows),
            prompts: ChatPrompts(catalog: catalog, historyShown: history, contextTokens: contextTokens), settings: settings,
            retrieve: { q, k in
                let s = try retriever.scores(text: q.text, anchors: q.anchors, blend: blend)
                return retriever.top(s, k: k, exclude: q.exclude).map { ScoredRow(row: $0.row, score: $0.score) }
            },
            ranker: client, writer: client, out: Chat.write)
        if isatty(1) != 0 { engine.status = Chat.statusLine }

        let who = user.map { "user \($0)" } ?? "your liked titles"
        Chat.write("retriever: \(source?.label ?? "frozen \(TunedSource.shortName(modelOptions.model))"); "
                   + "LLM: \(client.map { "\($0.config.model) at \(llm.server!)" } ?? "none (--server): retriever order, no explanations")\n")
        if try !retriever.readsText() { Chat.write("note: this head scores items by ID alone; requests cannot change its list\n") }
        Chat.write("\(who): \(rows.count) items; the latest: " + rows.suffix(3).map { catalog.titles[$0] }.joined(separator: "; ") + "\n")
        Chat.write("Type a request, \"more\", \"no 2\", \"why 2\", \"help\"; Ctrl-D quits.\n\n")
        await engine.start()
        let echo = isatty(0) == 0
        while true {
            Chat.write("\nyou> ")
            guard let line = readLine() else { Chat.write("\n"); break }
            if echo { Chat.write(line + "\n") }
            if !(await engine.handle(line)) { break }
        }
        Chat.write("bye\n")
    }

    /// The user's items, oldest first: the corpus history visible at test time, or the rows of the liked titles.
    func historyRows(_ corpus: PreparedCorpus, _ catalog: MovieCatalog) throws -> [Int] {
        if let user {
            guard let row = corpus.split.userIds.firstIndex(of: user) else {
                throw ValidationError("user '\(user)' is not in \(corpusOptions.corpus) (after the protocol's filters)")
            }
            return corpus.split.history(user: row, stage: .test, setting: .warm).map(Int.init)
        }
        var rows: [Int] = []
        for name in liked!.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let r = catalog.rowsNamed(in: name).first else {
                throw ValidationError("--liked: no title in \(corpusOptions.corpus) matches \"\(name)\"")
            }
            if !rows.contains(r) { rows.append(r) }
        }
        return rows
    }

    /// Writes to stdout at once (a streamed answer appears as it comes).
    @Sendable static func write(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    /// On a terminal: a dim status line while the LLM works, erased (carriage return, clear line) before the
    /// next output.
    @Sendable static func statusLine(_ s: String?) {
        write(s.map { "\r\u{1B}[K\u{1B}[2m\($0)\u{1B}[0m" } ?? "\r\u{1B}[K")
    }
}
