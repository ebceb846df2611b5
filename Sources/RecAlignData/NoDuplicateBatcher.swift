// NoDuplicateBatcher: shuffled batches in which no target item occurs twice (in-batch negatives stay valid).
import Foundation

/// Batching like sentence-transformers' NoDuplicatesBatchSampler: shuffle the indices with
/// SplitMix64(seed), then repeatedly scan the remaining indices in that order, taking each one whose target
/// is not yet in the batch (others are deferred to a later batch) until the batch is full or the scan ends.
public enum NoDuplicateBatcher {
    /// Batches of indices into `targets`. The last, possibly short, batch is kept unless `dropLast`.
    public static func batches(targets: [Int32], batchSize: Int, seed: UInt64, dropLast: Bool = false) -> [[Int]] {
        precondition(batchSize > 0, "batchSize must be positive")
        let n = targets.count
        guard n > 0 else { return [] }
        var order = Array(0..<n)
        var rng = SplitMix64(seed: seed)
        rng.shuffle(&order)

        // Remaining indices as a singly linked list over positions of `order`.
        var next = Array(1...n)
        next[n - 1] = -1
        var head = 0
        // stamp[item] == batch number when the item is already in the current batch.
        let maxItem = Int(targets.max() ?? 0)
        var stamp = [Int](repeating: -1, count: max(0, maxItem) + 1)
        var out: [[Int]] = []
        var batchNo = 0
        while head != -1 {
            var batch: [Int] = []
            batch.reserveCapacity(batchSize)
            var prev = -1, cur = head
            while cur != -1 && batch.count < batchSize {
                let idx = order[cur], item = Int(targets[idx])
                let after = next[cur]
                if stamp[item] != batchNo {
                    stamp[item] = batchNo
                    batch.append(idx)
                    if prev == -1 { head = after } else { next[prev] = after }
                } else {
                    prev = cur
                }
                cur = after
            }
            if batch.count == batchSize || !dropLast { out.append(batch) }
            batchNo += 1
        }
        return out
    }

    /// The batches of epoch `epoch` (0-based): seed = baseSeed + epoch (PROTOCOL: 42 + epoch).
    public static func epochBatches(targets: [Int32], batchSize: Int, epoch: Int, baseSeed: UInt64 = 42,
                                    dropLast: Bool = false) -> [[Int]] {
        batches(targets: targets, batchSize: batchSize, seed: baseSeed &+ UInt64(epoch), dropLast: dropLast)
    }
}
