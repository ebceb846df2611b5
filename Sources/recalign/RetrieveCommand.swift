// RetrieveCommand: `recalign retrieve --user ID` — one user's history and top-k items with titles, for a person to read.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignModels
import RecAlignRetrieval

struct Retrieve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one user's recent history and the retriever's top-k items.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: "User id as in the corpus.") var user: String
    @Option(name: [.customShort("k"), .long], help: "How many items to show.") var k: Int = 10
    @Option(help: "warm or cold.") var setting: EvalSetting = .warm
    @Option(help: "valid or test: which visible history to use.") var split: EvalStage = .test
    @Option(help: "Token budget of the user text.") var userMaxLength: Int = 128

    func validate() throws {
        try requireCount(k, atLeast: 1, "-k")
        try requireCount(userMaxLength, atLeast: 8, "--user-max-length")
    }

    func run() throws {
        let corpus = try corpusOptions.load()
        guard let row = corpus.split.userIds.firstIndex(of: user) else {
            throw ValidationError("user '\(user)' is not in \(corpusOptions.corpus) (after the protocol's filters)")
        }
        let encoder = try SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength)
        let towers = TextTowers(encoder: encoder, corpus: corpus, userMaxLength: userMaxLength, batchSize: modelOptions.batchSize)
        let items = towers.items()
        let u = [Int32(row)]
        let userM = towers.users(u, split, setting)
        let recs = try CandidateExport.records(corpus: corpus, users: u, stage: split, setting: setting,
                                               userVectors: userM.values, itemVectors: items.values, dim: items.dim, k: k)
        let r = recs[0]
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
