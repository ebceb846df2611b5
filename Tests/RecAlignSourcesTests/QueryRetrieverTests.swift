// QueryRetrieverTests: the chat's blend of the user's scores with a request's, for the frozen encoder and a head.
import Foundation
import Testing
import RecAlignData
import RecAlignHeads
import RecAlignModels
import RecAlignRetrieval
import RecAlignSources
import RecAlignTestSupport

@Suite(.serialized) struct QueryRetrieverTests {
    /// Blend 0 is the user's tower alone (the frozen user-text tower's scores); blend 1 is the request alone, so
    /// a request that is an item's exact text ranks that item first; between, each score is the weighted sum of
    /// the two standardised scores.
    @Test(.enabled(if: TestPaths.hasModel)) func blendMovesFromTasteToRequest() throws {
        let corpus = try PreparedCorpus.load(path: TestPaths.corpusFixture("ml-tiny"))
        let towers = TextTowers(encoder: try SentenceEncoder(path: TestPaths.modelDir), corpus: corpus)
        let history: [Int32] = [0, 1, 2]
        let r = try QueryRetriever(source: nil, towers: towers, history: history)
        let items = towers.items()
        let u = towers.encoder.encode([towers.builder.text(history).text])
        let userOnly = try r.scores(text: nil, anchors: [], blend: 0.5)
        for i in 0..<corpus.itemCount {
            let dot = zip(items.row(i), u.values).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(abs(userOnly[i] - dot) < 1e-4)
        }
        let target = 17
        let text = corpus.itemTexts[target]
        #expect(r.top(try r.scores(text: text, anchors: [], blend: 1), k: 1, exclude: []).first?.row == target)
        #expect(try r.scores(text: text, anchors: [], blend: 0) == r.scores(text: "anything else", anchors: [], blend: 0))
        // Naming the item (an anchor) with an empty-ish request also lands on it; excluded rows never come back.
        #expect(r.top(try r.scores(text: nil, anchors: [target], blend: 1), k: 1, exclude: []).first?.row == target)
        let top = r.top(try r.scores(text: text, anchors: [], blend: 1), k: 5, exclude: [target])
        #expect(top.count == 5 && !top.contains { $0.row == target })
        let half = try r.scores(text: text, anchors: [], blend: 0.5)
        let a = try r.scores(text: text, anchors: [], blend: 0), b = try r.scores(text: text, anchors: [], blend: 1)
        func z(_ x: [Float]) -> [Float] {
            let m = x.reduce(0, +) / Float(x.count)
            let sd = (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(x.count)).squareRoot()
            return x.map { ($0 - m) / sd }
        }
        for (h, (x, y)) in zip(half, zip(z(a), b)) { #expect(abs(h - (0.5 * x + 0.5 * y)) < 1e-4) }
    }

    /// A text-only head with a transition term: the user's score of each item is its cosine plus the term (as
    /// train-head scores), and a request is still scored against the item text vectors of the head's width.
    @Test(.enabled(if: TestPaths.hasModel)) func aHeadsTransitionTermAddsToTheUserScore() throws {
        let corpus = try PreparedCorpus.load(path: TestPaths.corpusFixture("ml-tiny"))
        let towers = TextTowers(encoder: try SentenceEncoder(path: TestPaths.modelDir), corpus: corpus)
        let dir = TestPaths.tempDir("chat-transitions")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = HeadConfig(adaptor: .linear, tower: .mean, inputDim: towers.encoder.dimension, maxHistory: 5, dropout: 0)
        config.transitionWeight = 0.2
        let head = RecHead(config: config, seed: 3)
        try HeadFiles.save(head, to: dir)
        let history: [Int32] = [0, 1, 2]
        let r = try QueryRetriever(source: .head(dir), towers: towers, history: history)
        let n = corpus.itemCount
        let v = try head.vectors(itemEmbeddings: towers.items().values, itemCount: n, histories: [history])
        let term = try head.transitionTable(train: corpus.split.trainSequences(.warm), itemCount: n).scores(histories: [history])
        #expect(term.contains { $0 > 0 })
        let norm = v.users.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        let userOnly = try r.scores(text: nil, anchors: [], blend: 0.5)
        for i in 0..<n {
            let cos = (0..<v.dim).reduce(Float(0)) { $0 + v.items[i * v.dim + $1] * v.users[$1] } / norm
            #expect(abs(userOnly[i] - (cos + 0.2 * term[i])) < 1e-4)
        }
        let target = 9
        #expect(r.top(try r.scores(text: corpus.itemTexts[target], anchors: [], blend: 1), k: 1, exclude: []).first?.row == target)
    }

    /// A head with an ID table: the request is scored against the items' text side (no ID part), so at blend 1
    /// the item whose text is the request still comes first although random ID vectors dominate its item vectors.
    @Test(.enabled(if: TestPaths.hasModel)) func aHeadScoresRequestsAgainstItemText() throws {
        let corpus = try PreparedCorpus.load(path: TestPaths.corpusFixture("ml-tiny"))
        let towers = TextTowers(encoder: try SentenceEncoder(path: TestPaths.modelDir), corpus: corpus)
        let dir = TestPaths.tempDir("chat-head")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = HeadConfig(adaptor: .linear, tower: .mean, inputDim: towers.encoder.dimension, maxHistory: 5, dropout: 0,
                                itemInput: .textAndID, itemCount: corpus.itemCount)
        let head = RecHead(config: config, seed: 3)
        if let w = head.itemID?.weight { for i in 0..<w.count { w.data[i] *= 200 } }
        try HeadFiles.save(head, to: dir)
        let r = try QueryRetriever(source: .head(dir), towers: towers, history: [0, 1, 2])
        #expect(try r.readsText())
        let target = 9
        #expect(r.top(try r.scores(text: corpus.itemTexts[target], anchors: [], blend: 1), k: 1, exclude: []).first?.row == target)
    }
}
