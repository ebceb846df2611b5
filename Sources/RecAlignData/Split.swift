// Split: the protocol's leave-one-out split (warm) and its cold-start variant, built from a Dataset.
import Foundation

/// A held-out interaction of one user (validation or test).
public struct HeldOut: Equatable, Hashable, Sendable {
    public var itemRow: Int32
    public var timestamp: Double
    public init(itemRow: Int32, timestamp: Double) { self.itemRow = itemRow; self.timestamp = timestamp }
}

/// The cold-start split (PROTOCOL section 3).
public struct ColdSplit: Equatable, Sendable {
    /// The cold item rows, sorted.
    public var coldItems: [Int32]
    /// `isCold[itemRow]`.
    public var isCold: [Bool]
    /// Train sequences without any interaction with a cold item (`cold/train.tsv`).
    public var train: InteractionSequences
    /// User rows whose validation item is cold (`cold/valid.tsv`), sorted.
    public var validUsers: [Int32]
    /// User rows whose test item is cold (`cold/test.tsv`): the evaluated users, sorted.
    public var testUsers: [Int32]

    /// Memberwise (used when reading split files).
    public init(coldItems: [Int32], isCold: [Bool], train: InteractionSequences, validUsers: [Int32], testUsers: [Int32]) {
        self.coldItems = coldItems; self.isCold = isCold; self.train = train
        self.validUsers = validUsers; self.testUsers = testUsers
    }

    /// Derives the cold split from the cold item rows and the warm split.
    public init(coldItems: [Int32], itemCount: Int, warmTrain: InteractionSequences, valid: [HeldOut], test: [HeldOut]) {
        let sorted = coldItems.sorted()
        var isCold = [Bool](repeating: false, count: itemCount)
        for r in sorted { isCold[Int(r)] = true }
        self.coldItems = sorted
        self.isCold = isCold
        train = warmTrain.removing { isCold[Int($0)] }
        validUsers = valid.indices.filter { isCold[Int(valid[$0].itemRow)] }.map { Int32($0) }
        testUsers = test.indices.filter { isCold[Int(test[$0].itemRow)] }.map { Int32($0) }
    }
}

/// Leave-one-out split of a Dataset (PROTOCOL section 2) together with its cold-start split.
public struct Split: Equatable, Sendable {
    public var userIds: [String]
    public var itemIds: [String]
    /// Each user's train items in sequence order (timestamp, then item row).
    public var train: InteractionSequences
    /// Each user row's validation interaction (second-to-last).
    public var valid: [HeldOut]
    /// Each user row's test interaction (last).
    public var test: [HeldOut]
    public var cold: ColdSplit

    public var userCount: Int { userIds.count }
    public var itemCount: Int { itemIds.count }

    public init(userIds: [String], itemIds: [String], train: InteractionSequences, valid: [HeldOut],
                test: [HeldOut], cold: ColdSplit) {
        self.userIds = userIds; self.itemIds = itemIds; self.train = train
        self.valid = valid; self.test = test; self.cold = cold
    }

    /// Splits `dataset`: per user, sorted by (timestamp, item row): last = test, second-to-last = valid,
    /// rest = train. The cold items are `coldItemRows(itemCount:fraction:seed:)`.
    /// Throws when a user has fewer than 3 interactions.
    public init(dataset: Dataset, coldFraction: Double = 0.15, coldSeed: UInt64 = 42) throws {
        let offsets = dataset.userOffsets()
        var perUser: [[(item: Int32, timestamp: Double)]] = []
        perUser.reserveCapacity(dataset.userCount)
        var valid: [HeldOut] = [], test: [HeldOut] = []
        for u in 0..<dataset.userCount {
            // Dataset keeps each user's interactions sorted by (timestamp, item row); sort again to be safe.
            let xs = dataset.interactions[offsets[u]..<offsets[u + 1]].sorted {
                $0.timestamp != $1.timestamp ? $0.timestamp < $1.timestamp : $0.itemRow < $1.itemRow
            }
            guard xs.count >= 3 else {
                throw DataError.invalid("user \(dataset.userIds[u]) has \(xs.count) interactions; "
                    + "a leave-one-out split needs at least 3")
            }
            perUser.append(xs.dropLast(2).map { ($0.itemRow, $0.timestamp) })
            valid.append(HeldOut(itemRow: xs[xs.count - 2].itemRow, timestamp: xs[xs.count - 2].timestamp))
            test.append(HeldOut(itemRow: xs[xs.count - 1].itemRow, timestamp: xs[xs.count - 1].timestamp))
        }
        let train = InteractionSequences(perUser: perUser)
        let coldRows = Split.coldItemRows(itemCount: dataset.itemCount, fraction: coldFraction, seed: coldSeed)
        self.init(userIds: dataset.userIds, itemIds: dataset.itemIds, train: train, valid: valid, test: test,
                  cold: ColdSplit(coldItems: coldRows, itemCount: dataset.itemCount, warmTrain: train,
                                  valid: valid, test: test))
    }

    /// m = round(fraction * n) with ties to even (Python's `round`): 252 for ml-100k, 4 for n = 30.
    public static func coldItemCount(itemCount n: Int, fraction: Double = 0.15) -> Int {
        Int((fraction * Double(n)).rounded(.toNearestOrEven))
    }

    /// The cold item rows, sorted: the first m of a SplitMix64-driven partial Fisher-Yates shuffle.
    public static func coldItemRows(itemCount n: Int, fraction: Double = 0.15, seed: UInt64 = 42) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return rng.partialShuffle(n: n, m: coldItemCount(itemCount: n, fraction: fraction)).map { Int32($0) }.sorted()
    }
}
