// NoDuplicateBatcher: shuffled batches in which no target item occurs twice (in-batch negatives stay valid).
import Foundation

/// Batching like sentence-transformers' NoDuplicatesBatchSampler: shuffle the indices with
/// SplitMix64(seed), then repeatedly scan the remaining indices in that order, taking each one none of
/// whose keys is already in the batch (others are deferred to a later batch) until the batch is full or
/// the scan ends. The protocol's key is the target item; `keysPerSample > 1` also lets a caller use
/// sentence-transformers' exact rule (every text of the sample, see `TrainingPairs.textKeys`).
public enum NoDuplicateBatcher {
    /// Batches of indices into `targets` (one key per sample). The last, possibly short, batch is kept
    /// unless `dropLast`.
    public static func batches(targets: [Int32], batchSize: Int, seed: UInt64, dropLast: Bool = false) -> [[Int]] {
        batches(keys: targets, keysPerSample: 1, batchSize: batchSize, seed: seed, dropLast: dropLast)
    }

    /// Batches of sample indices where sample i has keys `keys[i * keysPerSample ..< (i + 1) * keysPerSample]`
    /// (non-negative) and no key occurs twice in a batch.
    public static func batches(keys: [Int32], keysPerSample: Int, batchSize: Int, seed: UInt64,
                               dropLast: Bool = false) -> [[Int]] {
        precondition(batchSize > 0 && keysPerSample > 0, "batchSize and keysPerSample must be positive")
        precondition(keys.count % keysPerSample == 0, "keys.count must be a multiple of keysPerSample")
        let n = keys.count / keysPerSample
        guard n > 0 else { return [] }
        var order = Array(0..<n)
        var rng = SplitMix64(seed: seed)
        rng.shuffle(&order)

        // Remaining samples as a singly linked list over positions of `order`.
        var next = Array(1...n)
        next[n - 1] = -1
        var head = 0
        // stamp[key] == batch number when the key is already in the current batch.
        var stamp = [Int](repeating: -1, count: Int(keys.max() ?? 0) + 1)
        var out: [[Int]] = []
        var batchNo = 0
        keys.withUnsafeBufferPointer { k in
            while head != -1 {
                var batch: [Int] = []
                batch.reserveCapacity(batchSize)
                var prev = -1, cur = head
                while cur != -1 && batch.count < batchSize {
                    let idx = order[cur], base = idx * keysPerSample
                    let after = next[cur]
                    var free = true
                    for j in base..<(base + keysPerSample) where stamp[Int(k[j])] == batchNo { free = false; break }
                    if free {
                        for j in base..<(base + keysPerSample) { stamp[Int(k[j])] = batchNo }
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
        }
        return out
    }

    /// The batches of epoch `epoch` (0-based): seed = baseSeed + epoch (PROTOCOL: 42 + epoch).
    public static func epochBatches(targets: [Int32], batchSize: Int, epoch: Int, baseSeed: UInt64 = 42,
                                    dropLast: Bool = false) -> [[Int]] {
        batches(targets: targets, batchSize: batchSize, seed: baseSeed &+ UInt64(epoch), dropLast: dropLast)
    }
}
