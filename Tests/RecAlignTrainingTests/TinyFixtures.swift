// TinyFixtures: a tiny random BERT saved as a sentence-transformers folder and the ml-tiny corpus, for training tests.
import Foundation
import RecAlignTraining
import RecAlignNN
import RecAlignModels
import RecAlignFormats
import RecAlignData
import RecAlignTensor
import RecAlignTestSupport

enum Tiny {
    static let tokenizerDir = TestPaths.fixture("tokenizer")
    static let corpusDir = TestPaths.corpusFixture("ml-tiny")

    static func tempDir(_ tag: String) -> String { TestPaths.tempDir("train-" + tag) }

    /// A 2-layer, 32-wide random BERT with the fixture WordPiece vocabulary, written as a
    /// sentence-transformers folder (mean pooling, normalised).
    static func model() throws -> String {
        var c = BertConfig()
        c.hiddenSize = 32; c.numHiddenLayers = 2; c.numAttentionHeads = 4; c.intermediateSize = 64
        c.maxPositionEmbeddings = 192
        let dir = tempDir("model")
        let m = BertModel(config: c, seed: 7)
        try SentenceTransformerFolder(config: c, maxSeqLength: 128, doLowerCase: true, normalize: true).write(to: dir)
        try BertWeights.save(m, to: dir + "/model.safetensors")
        try SentenceTransformerFolder.copyTokenizerFiles(from: tokenizerDir, to: dir)
        return dir
    }

    struct Corpus {
        let split: Split
        let builder: UserTextBuilder
        let pairs: TrainingPairs
    }

    static func corpus(_ encoder: SentenceEncoder) throws -> Corpus {
        let ds = try CorpusLoader.load(path: corpusDir)
        let split = try Split(dataset: ds)
        let texts = ItemTextTemplate.default(for: ds).itemTexts(ds)
        let builder = UserTextBuilder(itemTexts: texts, maxLength: 128, tokenCount: { encoder.tokenizer.countTokens($0) })
        return Corpus(split: split, builder: builder, pairs: TrainingPairs(sequences: split.trainSequences(.warm)))
    }

    /// Every model and adapter parameter as (name, values).
    static func snapshot(_ encoder: SentenceEncoder, extra: Module? = nil) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (n, t) in encoder.model.namedParameters() { out[n] = t.array }
        if let extra { for (n, t) in extra.namedParameters() { out["prompt." + n] = t.array } }
        return out
    }
}

extension Tiny {
    /// A corpus with a pattern to learn (the ml-tiny fixture is random): 4 genres of 8 items each, 40 users
    /// who each watch 7 items of one genre in a seeded order. Written as RecBole atomic files to a temp folder.
    static func genreCorpus(_ encoder: SentenceEncoder) throws -> Corpus {
        let dir = tempDir("genre") + "/genre"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let genres = ["Western", "Musical", "Horror", "Animation"]
        let words = ["river", "stone", "night", "garden", "signal", "mirror", "road", "house"]
        var items = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        for (g, genre) in genres.enumerated() {
            for (w, word) in words.enumerated() { items += "\(g * 8 + w + 1)\tThe \(word.capitalized) \(genre)\t19\(70 + w)\t\(genre)\n" }
        }
        var rng = SeededRNG(seed: 11)
        var inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        for u in 0..<40 {
            let g = u % 4
            var order = Array(0..<8); order.shuffle(using: &rng)
            let seq = order.prefix(7)
            for (t, w) in seq.enumerated() { inter += "\(u + 1)\t\(g * 8 + w + 1)\t5\t\(1000 * u + t)\n" }
        }
        try items.write(toFile: dir + "/genre.item", atomically: true, encoding: .utf8)
        try inter.write(toFile: dir + "/genre.inter", atomically: true, encoding: .utf8)
        let ds = try CorpusLoader.load(path: dir)
        let split = try Split(dataset: ds)
        let texts = ItemTextTemplate.default(for: ds).itemTexts(ds)
        let builder = UserTextBuilder(itemTexts: texts, maxLength: 128, tokenCount: { encoder.tokenizer.countTokens($0) })
        return Corpus(split: split, builder: builder, pairs: TrainingPairs(sequences: split.trainSequences(.warm)))
    }
}
