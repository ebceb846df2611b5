// CorpusOptions: the corpus option group shared by evaluate, export, retrieve, train and train-head.
import ArgumentParser
import Foundation
import RecAlignData
import RecAlignRetrieval

struct CorpusOptions: ParsableArguments {
    @Option(help: "Corpus: RecBole atomic folder, MovieLens folder (u.data, u.item) or .jsonl file.")
    var corpus: String = "corpora/ml-100k"

    @Flag(help: "Skip malformed corpus lines (their count is printed) instead of refusing the corpus.")
    var skipBadLines = false

    @Flag(help: "Accept items without a text (no item file, or no row in it): the item id becomes the text (otherwise refused).")
    var itemIdAsText = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: corpus) else {
            throw ValidationError("corpus '\(corpus)' does not exist (run corpora/fetch_ml100k.sh for ml-100k, corpora/fetch_ml1m.sh for ml-1m)")
        }
    }

    func load() throws -> PreparedCorpus {
        let c = try PreparedCorpus.load(path: corpus, skipBadLines: skipBadLines, itemIdAsText: itemIdAsText)
        note("corpus \(corpus): \(c.split.userCount) users, \(c.itemCount) items; \(c.dataset.report)")
        return c
    }
}

extension EvalSetting: ExpressibleByArgument {}
extension EvalStage: ExpressibleByArgument {}
