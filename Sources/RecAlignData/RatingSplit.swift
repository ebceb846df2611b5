// RatingSplit: the explicit ratings of the protocol's leave-one-out split (train, validation, test per user).
import Foundation

/// The ratings of a `Split`'s interactions, for rating prediction. The interactions are exactly the split's
/// (PROTOCOL section 2: last = test, second-to-last = validation, the rest = train); this adds their ratings.
public struct RatingSplit: Equatable, Sendable {
    /// Ratings parallel to `Split.train.items` (same CSR offsets): user u's train ratings in sequence order.
    public var train: [Float]
    /// CSR offsets of `train` (= `Split.train.offsets`).
    public var offsets: [Int]
    /// Train item rows (= `Split.train.items`), kept here so a fit needs no `Split`.
    public var trainItems: [Int32]
    /// Each user row's validation and test rating, and their item rows (= `Split.valid` / `Split.test`).
    public var valid: [Float]
    public var test: [Float]
    public var validItems: [Int32]
    public var testItems: [Int32]
    /// The lowest and highest train rating: the scale predictions are clipped to (ml-100k: 1...5).
    public var scale: ClosedRange<Float>

    public var userCount: Int { offsets.count - 1 }

    /// Takes `dataset`'s ratings (`Dataset.ratings`) for the interactions of `split` (made from `dataset`).
    /// Throws `DataError.invalid` when the corpus has no ratings, or when `split` is not `dataset`'s.
    public init(dataset: Dataset, split: Split) throws {
        guard let ratings = dataset.ratings else {
            let missing = dataset.report.missingRatings
            throw DataError.invalid("\(dataset.name): the corpus has no explicit ratings"
                + (missing > 0 ? " for every interaction (\(missing) are empty)" : " (no rating column / field)")
                + "; rating prediction needs one per interaction")
        }
        guard dataset.userCount == split.userCount else {
            throw DataError.invalid("\(dataset.name): the split has \(split.userCount) users, the corpus \(dataset.userCount)")
        }
        let offsets = dataset.userOffsets()
        var train: [Float] = [], valid: [Float] = [], test: [Float] = []
        train.reserveCapacity(split.train.count)
        for u in 0..<dataset.userCount {
            // The split's order: (timestamp, item row) within the user, as `Split.init(dataset:)` sorts.
            let idx = (offsets[u]..<offsets[u + 1]).sorted {
                let a = dataset.interactions[$0], b = dataset.interactions[$1]
                return a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.itemRow < b.itemRow
            }
            let items = idx.map { dataset.interactions[$0].itemRow }
            guard items.count >= 3, Array(items.dropLast(2)) == Array(split.train.items(ofUser: u)),
                  items[items.count - 2] == split.valid[u].itemRow, items[items.count - 1] == split.test[u].itemRow else {
                throw DataError.invalid("\(dataset.name): user \(dataset.userIds[u])'s interactions differ from the split's")
            }
            train += idx.dropLast(2).map { ratings[$0] }
            valid.append(ratings[idx[idx.count - 2]])
            test.append(ratings[idx[idx.count - 1]])
        }
        guard let lo = train.min(), let hi = train.max() else {
            throw DataError.invalid("\(dataset.name): no train ratings")
        }
        self.init(train: train, offsets: split.train.offsets, trainItems: split.train.items, valid: valid, test: test,
                  validItems: split.valid.map(\.itemRow), testItems: split.test.map(\.itemRow), scale: lo...hi)
    }

    /// Memberwise (tests, synthetic data). `train` and `trainItems` follow `offsets`.
    public init(train: [Float], offsets: [Int], trainItems: [Int32], valid: [Float], test: [Float],
                validItems: [Int32], testItems: [Int32], scale: ClosedRange<Float>) {
        self.train = train; self.offsets = offsets; self.trainItems = trainItems
        self.valid = valid; self.test = test; self.validItems = validItems; self.testItems = testItems; self.scale = scale
    }

    /// User u's train ratings and their item rows, oldest first.
    public func trainRatings(ofUser u: Int) -> ArraySlice<Float> { train[offsets[u]..<offsets[u + 1]] }
    public func trainItems(ofUser u: Int) -> ArraySlice<Int32> { trainItems[offsets[u]..<offsets[u + 1]] }

    /// The rated history visible at a stage (PROTOCOL section 2, warm), oldest first: the train interactions,
    /// plus at test the validation interaction as the most recent.
    public func history(user u: Int, stage: EvalStage) -> [(item: Int32, rating: Float)] {
        var h = zip(trainItems(ofUser: u), trainRatings(ofUser: u)).map { (item: $0.0, rating: $0.1) }
        if stage == .test { h.append((validItems[u], valid[u])) }
        return h
    }

    /// The held-out item and rating of user u at a stage.
    public func target(user u: Int, stage: EvalStage) -> (item: Int32, rating: Float) {
        stage == .valid ? (validItems[u], valid[u]) : (testItems[u], test[u])
    }
}
