// JointEncoder: the encoder half of joint training (item tower, optimizer, re-encoded items, cache refreshes).
import Foundation
import RecAlignNN
import RecAlignTensor

/// What a `HeadTrainer` needs to train the encoder under its head: each step re-encodes some of the batch's
/// target items with gradients (`tower.encode`) and splices them into the table of cached item embeddings, so
/// the head's loss reaches the encoder through them; the cached table is re-encoded from the current encoder
/// every `refreshEvery` steps and before every validation.
public struct JointEncoder {
    public let tower: ItemTextTower
    public let optimizer: AdamW
    /// The encoder's learning rate as a multiple of the head's (both follow the head's schedule).
    public var rateFactor: Float
    /// Distinct target items per step re-encoded with gradients (a seeded sample when a batch has more).
    public var reencode: Int
    /// Steps between refreshes of the cached table (0: only before each validation).
    public var refreshEvery: Int

    public init(tower: ItemTextTower, optimizer: AdamW, rateFactor: Float, reencode: Int = 128, refreshEvery: Int = 0) {
        self.tower = tower; self.optimizer = optimizer; self.rateFactor = rateFactor
        self.reencode = reencode; self.refreshEvery = refreshEvery
    }

    /// The items of a step: the distinct `targets`, down to `reencode` of them by a seeded partial shuffle.
    public func rows(targets: [Int32], rng: inout SeededRNG) -> [Int32] {
        var seen = Set<Int32>(), distinct: [Int32] = []
        for t in targets where seen.insert(t).inserted { distinct.append(t) }
        guard distinct.count > reencode else { return distinct }
        for i in 0..<reencode {
            let j = i + Int(rng.next() % UInt64(distinct.count - i))
            distinct.swapAt(i, j)
        }
        return Array(distinct.prefix(reencode))
    }
}
