// TrainingPairs: the (user prefix -> next item) pairs of PROTOCOL section 6, stored compactly as (user, position).
import Foundation

/// One training pair: user row `user`, target at `position` t >= 1 of the user's train sequence h;
/// the user text is built from h[..<t], the item text is that of h[t].
public struct TrainingPair: Equatable, Hashable, Sendable {
    public var user: Int32
    public var position: Int32
    public init(user: Int32, position: Int32) { self.user = user; self.position = position }
}

/// All (or a seeded subsample of) the training pairs of a set of train sequences (warm `train` or
/// `cold/train`). Texts are built lazily with a `UserTextBuilder`.
public struct TrainingPairs: Sendable {
    public let sequences: InteractionSequences
    /// In (user row, position) order.
    public private(set) var pairs: [TrainingPair]

    /// Every (u, t) with 1 <= t < len(h_u).
    public init(sequences: InteractionSequences) {
        self.sequences = sequences
        var p: [TrainingPair] = []
        p.reserveCapacity(max(0, sequences.count - sequences.userCount))
        for u in 0..<sequences.userCount where sequences.length(ofUser: u) > 1 {
            for t in 1..<sequences.length(ofUser: u) { p.append(TrainingPair(user: Int32(u), position: Int32(t))) }
        }
        pairs = p
    }

    init(sequences: InteractionSequences, pairs: [TrainingPair]) { self.sequences = sequences; self.pairs = pairs }

    public var count: Int { pairs.count }
    public subscript(i: Int) -> TrainingPair { pairs[i] }

    /// Target item row h[t].
    public func target(_ p: TrainingPair) -> Int32 { sequences.items[sequences.offsets[Int(p.user)] + Int(p.position)] }
    /// History h[..<t], oldest first.
    public func history(_ p: TrainingPair) -> ArraySlice<Int32> {
        let base = sequences.offsets[Int(p.user)]
        return sequences.items[base..<(base + Int(p.position))]
    }
    /// Target item row of every pair, in pair order (input of `NoDuplicateBatcher`).
    public var targets: [Int32] { pairs.map(target) }

    /// (user text, item text) of pair `i`.
    public func texts(_ i: Int, builder: UserTextBuilder) -> (user: String, item: String) {
        let p = pairs[i]
        return (builder.text(history(p)).text, builder.itemTexts[Int(target(p))])
    }

    /// sentence-transformers' NO_DUPLICATES keys: for each pair, ids of its user text and its item text in
    /// one id space (equal strings get equal ids, so a one-item user text equals that item's text).
    /// Use with `NoDuplicateBatcher.batches(keys:keysPerSample: 2, ...)`.
    public func textKeys(builder: UserTextBuilder) -> [Int32] {
        var ids: [String: Int32] = [:]
        func id(_ s: String) -> Int32 {
            if let v = ids[s] { return v }
            let v = Int32(ids.count); ids[s] = v; return v
        }
        var keys: [Int32] = []
        keys.reserveCapacity(2 * pairs.count)
        for i in pairs.indices {
            let t = texts(i, builder: builder)
            keys.append(id(t.user)); keys.append(id(t.item))
        }
        return keys
    }

    /// A seeded uniform subsample of `count` pairs (partial Fisher-Yates with SplitMix64(seed)), kept in
    /// (user, position) order. `count >= self.count` returns all pairs.
    public func subsampled(_ count: Int, seed: UInt64) -> TrainingPairs {
        guard count < pairs.count else { return self }
        var rng = SplitMix64(seed: seed)
        let chosen = rng.partialShuffle(n: pairs.count, m: max(0, count)).sorted()
        return TrainingPairs(sequences: sequences, pairs: chosen.map { pairs[$0] })
    }
}
