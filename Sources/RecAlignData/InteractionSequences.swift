// InteractionSequences: per-user item sequences in one contiguous (CSR) layout, e.g. train or cold/train.
import Foundation

/// Each user row's items (and their timestamps) in sequence order, stored contiguously:
/// user u owns `items[offsets[u] ..< offsets[u + 1]]`.
public struct InteractionSequences: Equatable, Sendable {
    /// userCount + 1 offsets into `items` / `timestamps`.
    public var offsets: [Int]
    public var items: [Int32]
    public var timestamps: [Double]

    public init(offsets: [Int], items: [Int32], timestamps: [Double]) {
        self.offsets = offsets; self.items = items; self.timestamps = timestamps
    }

    /// Builds from per-user lists.
    public init(perUser: [[(item: Int32, timestamp: Double)]]) {
        var offsets = [0]
        var items: [Int32] = [], ts: [Double] = []
        for list in perUser {
            for x in list { items.append(x.item); ts.append(x.timestamp) }
            offsets.append(items.count)
        }
        self.init(offsets: offsets, items: items, timestamps: ts)
    }

    public var userCount: Int { offsets.count - 1 }
    /// Total number of interactions.
    public var count: Int { items.count }
    /// The items of user row `u`, oldest first.
    public func items(ofUser u: Int) -> ArraySlice<Int32> { items[offsets[u]..<offsets[u + 1]] }
    public func timestamps(ofUser u: Int) -> ArraySlice<Double> { timestamps[offsets[u]..<offsets[u + 1]] }
    public func length(ofUser u: Int) -> Int { offsets[u + 1] - offsets[u] }

    /// The same sequences without the items for which `drop(item)` is true.
    public func removing(_ drop: (Int32) -> Bool) -> InteractionSequences {
        var out = InteractionSequences(offsets: [0], items: [], timestamps: [])
        out.items.reserveCapacity(items.count)
        for u in 0..<userCount {
            for k in offsets[u]..<offsets[u + 1] where !drop(items[k]) {
                out.items.append(items[k]); out.timestamps.append(timestamps[k])
            }
            out.offsets.append(out.items.count)
        }
        return out
    }
}
