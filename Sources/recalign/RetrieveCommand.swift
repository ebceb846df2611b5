// RetrieveCommand: `recalign retrieve --user ID` — one user's history and top-k items with titles, for a person to read.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignModels
import RecAlignRetrieval
import RecAlignSources

struct Retrieve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one user's recent history and the retriever's top-k items.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: "User id as in the corpus.") var user: String
    @Option(name: [.customShort("k"), .long], help: "How many items to show.") var k: Int = 10
    @Option(help: "warm or cold.") var setting: EvalSetting = .warm
    @Option(help: "valid or test: which visible history to use.") var split: EvalStage = .test
    @Option(help: "Token budget of the user text.") var userMaxLength: Int = 128
    @Option(help: "A tuned model folder, adapter folder (RecAlign's or PEFT's) or head folder to retrieve with, as `export --tuned`.")
    var tuned: String?

    func validate() throws {
        try requireCount(k, atLeast: 1, "-k")
        try requireCount(userMaxLength, atLeast: 8, "--user-max-length")
    }

    func run() throws {
        let corpus = try corpusOptions.load()
        guard let row = corpus.split.userIds.firstIndex(of: user) else {
            throw ValidationError("user '\(user)' is not in \(corpusOptions.corpus) (after the protocol's filters)")
        }
        let source = tuned.map { TunedSource(path: $0) }
        let encoder = modelOptions.prepared(try source?.encoder(base: modelOptions.model, maxLength: modelOptions.maxLength)
            ?? SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength))
        let towers = TextTowers(encoder: encoder, corpus: corpus, userMaxLength: userMaxLength, batchSize: modelOptions.batchSize)
        let u = [Int32(row)]
        let v = try sourceVectors(source, base: towers, users: u, stage: split, setting: setting, maxLength: modelOptions.maxLength)
        // A head's transition term is added to the scores, as train-head and evaluate score it.
        let recs = try CandidateExport.records(corpus: corpus, users: u, stage: split, setting: setting,
                                               userVectors: v.users, itemVectors: v.items, dim: v.dim, k: k, term: v.term)
        let r = recs[0]
        print("retriever: \(source?.label ?? "frozen \(TunedSource.shortName(modelOptions.model))")")
        print("user \(r.userId) — visible history (\(split.rawValue), \(setting.rawValue)), most recent last:")
        for h in r.history { print("   \(h.text)") }
        print("\ntop \(k):")
        for (i, c) in r.candidates.enumerated() {
            let mark = c.itemId == r.target ? "  <- held-out \(split.rawValue) item" : ""
            print(String(format: "%3d. %.4f  %@%@", i + 1, c.score ?? 0, c.text, mark))
        }
        if let t = r.target, let rank = r.targetRank {
            let text = corpus.itemTexts[corpus.split.itemIds.firstIndex(of: t)!]
            print("\nheld-out item: \(text) — rank \(rank) of \(corpus.itemCount)")
        }
    }
}
