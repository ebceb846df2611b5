// RatingCases: each user's test rating question (rated history, same-user demonstrations, target) from the split.
import Foundation
import RecAlignData

extension RatingCase {
    /// The test-interaction questions of `users`, in order. Each prompt shows the user's last `historyLength`
    /// rated items visible at test (train + the validation item, PROTOCOL section 2) as titles with ratings,
    /// and, few-shot, `shots` demonstrations: the user's own train ratings not shown in the history, drawn
    /// uniformly (SplitMix64 seeded with `seed` + user row) and kept in time order. A user with fewer such
    /// ratings gets as many as there are.
    ///
    /// - Parameters:
    ///   - fallback: per user row, the prediction used for an unusable answer (the user mean).
    ///   - baselines: named per-user-row predictions written beside the LLM's (report order).
    public static func build(ratings: RatingSplit, catalog: MovieCatalog, userIds: [String], users: Range<Int>,
                             historyLength: Int, shots: Int, seed: UInt64, fallback: [Float],
                             baselines: [(name: String, values: [Float])]) -> [RatingCase] {
        let prompt = RatingPrompt(scale: ratings.scale)
        return users.map { u in
            let visible = ratings.history(user: u, stage: .test)
            let shown = visible.suffix(max(historyLength, 0))
            let trainCount = ratings.trainItems(ofUser: u).count
            // Train interactions older than the shown window (the window may also hold the validation item).
            let pool = Array(visible.prefix(min(visible.count - shown.count, trainCount)))
            var rng = SplitMix64(seed: seed &+ UInt64(u))
            let picked = rng.partialShuffle(n: pool.count, m: min(max(shots, 0), pool.count)).sorted()
            let target = ratings.target(user: u, stage: .test)
            let messages = prompt.messages(
                history: shown.map { RatedTitle(title: catalog.titles[Int($0.item)], rating: $0.rating) },
                demonstrations: picked.map { RatedTitle(title: catalog.describe(Int(pool[$0].item)), rating: pool[$0].rating) },
                target: catalog.describe(Int(target.item)))
            let shownRows = shown.map { Int($0.item) } + picked.map { Int(pool[$0].item) } + [Int(target.item)]
            let echoes = shownRows.flatMap { r in
                [catalog.describe(r), catalog.titles[r], MovieLensLoader.splitTitle(catalog.titles[r]).title]
            }
            return RatingCase(userId: userIds[u], itemId: catalog.itemIds[Int(target.item)], truth: target.rating,
                              fallback: fallback[u], messages: messages,
                              baselines: baselines.map { (name: $0.name, value: $0.values[u]) }, echoes: echoes)
        }
    }
}
