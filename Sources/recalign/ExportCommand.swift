// ExportCommand: `recalign export` — item and user towers as .npy / .fvecs / .safetensors with ids, metadata and candidates.jsonl.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignFormats
import RecAlignModels
import RecAlignRetrieval

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the item tower and a split's user tower so any other evaluator can score them.",
        discussion: "Writes items.<ext> + items.ids (one item id a line, row order), users.<ext> + users.ids, meta.json, and candidates.jsonl (top --candidates items per user, with texts, for a reranker).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var corpusOptions: CorpusOptions
    @Option(help: "warm or cold.") var setting: EvalSetting = .warm
    @Option(help: "valid or test: whose visible history builds the user texts.") var split: EvalStage = .test
    @Option(help: "Token budget of user texts.") var userMaxLength: Int = 128
    @Option(help: "npy, fvecs or safetensors.") var format: MatrixFormat = .npy
    @Flag(help: "Whiten both towers (fitted on the item tower).") var whiten = false
    @Option(help: "Candidates per user in candidates.jsonl (0 = none).") var candidates: Int = 50
    @Option(help: "Output folder.") var out: String

    func run() throws {
        let corpus = try corpusOptions.load()
        let encoder = try SentenceEncoder(path: modelOptions.model, maxLength: modelOptions.maxLength)
        let towers = TextTowers(encoder: encoder, corpus: corpus, userMaxLength: userMaxLength, batchSize: modelOptions.batchSize)
        let itemBar = ProgressBar("items", total: corpus.itemCount, unit: "texts")
        var items = towers.items { done, _ in itemBar.update(done) }.values
        let users = corpus.split.evaluatedUsers(split, setting)
        let userBar = ProgressBar("users", total: users.count, unit: "texts")
        let userM = towers.users(users, split, setting) { done, _ in userBar.update(done) }
        var userV = userM.values, dim = userM.dim
        if whiten {
            let w = try Whitening.fit(items, dim: dim)
            items = try w.apply(items); userV = try w.apply(userV); dim = w.outDim
        }
        let ext = format.rawValue
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        try writeMatrix(items, rows: corpus.itemCount, dim: dim, format: format, to: path("items.\(ext)"))
        try IdsFile.write(corpus.split.itemIds, to: path("items.ids"))
        try writeMatrix(userV, rows: users.count, dim: dim, format: format, to: path("users.\(ext)"))
        try IdsFile.write(users.map { corpus.split.userIds[Int($0)] }, to: path("users.ids"))
        let meta: [String: Any] = [
            "model": modelOptions.model, "pooling": encoder.folder.pooling.modes.map(\.rawValue),
            "normalize": encoder.folder.normalize, "max_length_items": encoder.maxLength, "max_length_users": userMaxLength,
            "whitening": whiten, "corpus": corpusOptions.corpus, "setting": setting.rawValue, "split": split.rawValue,
            "items": corpus.itemCount, "users": users.count, "dim": dim, "format": ext,
            "user_text": "most recent up-to-20 history items, oldest first, joined with ' ; ', oldest dropped to fit",
        ]
        try AtomicFile.write(JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys]), to: path("meta.json"))
        if candidates > 0 {
            let recs = try CandidateExport.records(corpus: corpus, users: users, stage: split, setting: setting,
                                                   userVectors: userV, itemVectors: items, dim: dim, k: candidates)
            try AtomicFile.write(CandidatesFile.encode(recs), to: path("candidates.jsonl"))
        }
        note("wrote \(corpus.itemCount) item and \(users.count) user vectors (dim \(dim), \(ext)) to \(out)")
    }
}
