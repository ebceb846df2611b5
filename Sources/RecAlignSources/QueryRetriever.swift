// QueryRetriever: a user's vector blended with an encoded free-text request and named items, scored over a source's catalog.
import Foundation
import RecAlignModels
import RecAlignRetrieval
import RecAlignHeads
import RecAlignData

/// Chat-REC's retrieval step for any source (`--tuned`: model, adapter or head; nil: the frozen encoder).
/// The user's vector comes from the source's user tower over `history` (a text tower encodes the user text,
/// a head runs its sequential tower or mean over the item states); a request is encoded by the same encoder as
/// the items and, for a head, passed through the head's item side with no ID part (it is not a catalog item).
/// The query is `normalise((1 - blend) * u + blend * normalise(m + a))`, where m is the request's vector and a
/// the mean vector of the items it names; with no request, u alone.
public final class QueryRetriever: @unchecked Sendable {
    public let items: [Float]
    public let dim: Int
    public let itemCount: Int
    public let user: [Float]
    /// The request's vector in the item space; nil when the source cannot read text (an ID-only head).
    let encodeRequest: (String) throws -> [Float]?

    public init(source: TunedSource?, towers: TextTowers, history: [Int32]) throws {
        itemCount = towers.corpus.itemCount
        if case let .head(dir)? = source {
            let head = try loadHead(dir)
            let useIDs = try TunedSource.head(dir).transferredFrom(to: towers.corpus.dataset.name) == nil
            let v = try head.vectors(itemEmbeddings: headItemEmbeddings(dir, towers: towers), itemCount: itemCount,
                                     histories: [history], useIDs: useIDs)
            items = v.items; user = v.users; dim = v.dim
            let encoder = try TunedSource.headEncoder(dir)?.encoder(base: towers.encoder.folder.path,
                                                                    maxLength: towers.encoder.maxLength) ?? towers.encoder
            encodeRequest = { text in
                guard head.config.itemInput != .id else { return nil }
                let e = encoder.encode([text]).values
                return try head.vectors(itemEmbeddings: e, itemCount: 1, histories: [], useIDs: false).items
            }
        } else {
            let m = towers.items()
            items = m.values; dim = m.dim
            let encoder = towers.encoder
            let userText = towers.builder.text(history).text
            let saved = encoder.maxLength
            encoder.maxLength = towers.userMaxLength
            user = encoder.encode([userText]).values
            encoder.maxLength = saved
            encodeRequest = { encoder.encode([$0]).values }
        }
    }

    /// True when requests change the query (false for an ID-only head).
    public func readsText() throws -> Bool { try encodeRequest("film") != nil }

    /// The query vector of a turn (unit norm).
    public func query(text: String?, anchors: [Int], blend: Float) throws -> [Float] {
        let u = QueryRetriever.normalised(user)
        var parts: [Float]? = nil
        if let text, let m = try encodeRequest(text) { parts = QueryRetriever.normalised(m) }
        let valid = anchors.filter { $0 >= 0 && $0 < itemCount }
        if !valid.isEmpty {
            var a = [Float](repeating: 0, count: dim)
            for r in valid { for j in 0..<dim { a[j] += items[r * dim + j] } }
            a = QueryRetriever.normalised(a)
            parts = parts.map { p in zip(p, a).map { $0 + $1 } } ?? a
        }
        guard let r = parts.map(QueryRetriever.normalised) else { return u }
        return QueryRetriever.normalised(zip(u, r).map { (1 - blend) * $0 + blend * $1 })
    }

    /// The `k` best item rows for `query` (dot product), skipping `exclude`; ties by row.
    public func top(_ query: [Float], k: Int, exclude: Set<Int>) -> [(row: Int, score: Float)] {
        var scored: [(row: Int, score: Float)] = []
        scored.reserveCapacity(itemCount)
        items.withUnsafeBufferPointer { it in
            for r in 0..<itemCount where !exclude.contains(r) {
                var s: Float = 0
                for j in 0..<dim { s += it[r * dim + j] * query[j] }
                scored.append((r, s))
            }
        }
        scored.sort { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
        return Array(scored.prefix(k))
    }

    static func normalised(_ v: [Float]) -> [Float] {
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return n > 0 ? v.map { $0 / n } : v
    }
}
