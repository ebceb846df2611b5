// QueryRetriever: a user's vector blended with an encoded free-text request and named items, scored over a source's catalog.
import Foundation
import RecAlignModels
import RecAlignRetrieval
import RecAlignHeads
import RecAlignData
import RecAlignTensor

/// Chat-REC's retrieval step for any source (`--tuned`: model, adapter or head; nil: the frozen encoder).
/// Two scores per item: the user's (the source's user tower over `history` against its item vectors: a text
/// tower encodes the user text, a head runs its sequential tower or mean over the item states) and the
/// request's (the request encoded by the items' encoder, plus the mean of the items it names, against the
/// items' text vectors: a head's item side without its ID part, since an ID-heavy space barely moves with
/// words). A head's user score is its cosine plus its transition term (as train-head scores), counted on the
/// warm train sequences (the chat's history is a warm test history). Each is standardised over the catalog (zero
/// mean, unit variance) and the turn's score is `(1 - blend) * user + blend * request`; with no request, the
/// user's score alone.
/// Standardising makes `blend` mean the same for every source, whatever the spread of its scores.
public final class QueryRetriever: @unchecked Sendable {
    public let dim: Int
    public let itemCount: Int
    /// The user's score of every item row.
    let userScores: [Float]
    /// Item vectors the request is scored against (unit norm) [itemCount, dim].
    let textItems: [Float]
    /// The request's vector; nil when the source cannot read text (an ID-only head).
    let encodeRequest: (String) throws -> [Float]?

    public init(source: TunedSource?, towers: TextTowers, history: [Int32]) throws {
        itemCount = towers.corpus.itemCount
        let items: [Float], user: [Float], transitions: (TransitionPrior, Float)?
        if case let .head(dir)? = source {
            let head = try loadHead(dir)
            let useIDs = try TunedSource.head(dir).transferredFrom(to: towers.corpus.dataset.name) == nil
            let embeddings = try headItemEmbeddings(dir, towers: towers)
            let v = try head.vectors(itemEmbeddings: embeddings, itemCount: itemCount, histories: [history], useIDs: useIDs)
            items = v.items; user = v.users; dim = v.dim
            transitions = try head.weightedTransitions(train: towers.corpus.split.trainSequences(.warm), itemCount: itemCount,
                                                       useIDs: useIDs)
            let readsText = head.config.itemInput != .id
            // Without an ID part in play the text side is the item vectors themselves.
            let idsInPlay = readsText && useIDs && head.itemID != nil
            textItems = idsInPlay ? try head.vectors(itemEmbeddings: embeddings, itemCount: itemCount, histories: [], useIDs: false).items : items
            let encoder = try TunedSource.headEncoder(dir)?.encoder(base: towers.encoder.folder.path,
                                                                    maxLength: towers.encoder.maxLength) ?? towers.encoder
            encodeRequest = { text in
                guard readsText else { return nil }
                return try head.vectors(itemEmbeddings: encoder.encode([text]).values, itemCount: 1, histories: [], useIDs: false).items
            }
        } else {
            let m = towers.items()
            items = m.values; dim = m.dim; textItems = m.values; transitions = nil
            user = towers.user(history: history).values
            let encoder = towers.encoder
            encodeRequest = { encoder.encode([$0]).values }
        }
        var scores = QueryRetriever.scores(items, QueryRetriever.normalised(user), dim: dim)
        if let (table, weight) = transitions {
            scores.withUnsafeMutableBufferPointer { table.addTerm(history, weight: weight, to: $0.baseAddress!) }
        }
        userScores = scores
    }

    /// True when requests change the list (false for an ID-only head).
    public func readsText() throws -> Bool { try encodeRequest("film") != nil }

    /// Every item row's score for a turn: the user's alone, or blended with the request's.
    public func scores(text: String?, anchors: [Int], blend: Float) throws -> [Float] {
        var r: [Float]? = nil
        if let text, let m = try encodeRequest(text) { r = QueryRetriever.normalised(m) }
        let valid = anchors.filter { $0 >= 0 && $0 < itemCount }
        if !valid.isEmpty {
            var a = [Float](repeating: 0, count: dim)
            for row in valid { for j in 0..<dim { a[j] += textItems[row * dim + j] } }
            a = QueryRetriever.normalised(a)
            r = QueryRetriever.normalised(r.map { zip($0, a).map { $0 + $1 } } ?? a)
        }
        guard let r else { return userScores }
        let u = QueryRetriever.standardised(userScores), q = QueryRetriever.standardised(QueryRetriever.scores(textItems, r, dim: dim))
        return zip(u, q).map { (1 - blend) * $0 + blend * $1 }
    }

    /// The `k` best item rows by `scores`, skipping `exclude`; ties by row.
    public func top(_ scores: [Float], k: Int, exclude: Set<Int>) -> [(row: Int, score: Float)] {
        var ranked = scores.indices.filter { !exclude.contains($0) }.map { (row: $0, score: scores[$0]) }
        ranked.sort { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
        return Array(ranked.prefix(k))
    }

    /// Dot products of the rows of `items` [n, dim] with `v`.
    static func scores(_ items: [Float], _ v: [Float], dim: Int) -> [Float] {
        items.withUnsafeBufferPointer { it in
            v.withUnsafeBufferPointer { q in
                (0..<(items.count / dim)).map { BLAS.dot(it.baseAddress! + $0 * dim, q.baseAddress!, count: dim) }
            }
        }
    }

    /// Zero mean, unit variance (a constant vector becomes zeros).
    static func standardised(_ x: [Float]) -> [Float] {
        let n = Float(max(x.count, 1))
        let mean = x.reduce(0, +) / n
        let sd = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        return x.map { sd > 0 ? ($0 - mean) / sd : 0 }
    }

    static func normalised(_ v: [Float]) -> [Float] {
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return n > 0 ? v.map { $0 / n } : v
    }
}
