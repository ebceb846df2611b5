// Dataset: one loaded corpus after the protocol's cleaning (implicit, deduplicated, user-filtered).
import Foundation

/// One implicit interaction: rows into `Dataset.userIds` / `Dataset.itemIds`, and its timestamp.
public struct Interaction: Equatable, Hashable, Sendable {
    public var userRow: Int32
    public var itemRow: Int32
    public var timestamp: Double
    public init(userRow: Int32, itemRow: Int32, timestamp: Double) {
        self.userRow = userRow; self.itemRow = itemRow; self.timestamp = timestamp
    }
}

/// How a loader treats its input.
public struct LoadOptions: Sendable {
    /// Skip malformed lines (and count them) instead of refusing the corpus.
    public var skipBadLines: Bool
    /// Users with fewer interactions (after deduplication) are dropped. Protocol: 5.
    public var minUserInteractions: Int
    /// Accept interactions whose item has no row in the item file (the text layer then names such an item by
    /// its id). Off, each is a bad line of the interactions file (refused, or skipped and counted), since an
    /// empty item text scores the same as every other.
    public var itemIdAsText: Bool
    public init(skipBadLines: Bool = false, minUserInteractions: Int = 5, itemIdAsText: Bool = false) {
        self.skipBadLines = skipBadLines; self.minUserInteractions = minUserInteractions; self.itemIdAsText = itemIdAsText
    }
}

/// What the cleaning did; print `description` so a run states it.
public struct LoadReport: Equatable, Sendable, CustomStringConvertible {
    /// Malformed lines skipped (only non-zero with `skipBadLines`).
    public var skippedLines: Int = 0
    /// The skipped lines' errors (file, line, reason).
    public var skippedErrors: [LineError] = []
    /// Interactions read before cleaning.
    public var rawInteractions: Int = 0
    /// Repeated (user, item) pairs removed (the earliest occurrence is kept).
    public var duplicatesDropped: Int = 0
    /// Users dropped for having fewer than `minUserInteractions` interactions, and their interactions.
    public var usersDropped: Int = 0
    public var interactionsDroppedWithUsers: Int = 0
    /// Kept interactions without a rating in a corpus that has ratings (an empty value); any makes
    /// `Dataset.ratings` nil, since a rating split needs every one.
    public var missingRatings: Int = 0
    public init() {}
    public var description: String {
        "read \(rawInteractions) interactions; skipped \(skippedLines) malformed lines; "
            + "dropped \(duplicatesDropped) duplicates and \(usersDropped) users "
            + "(\(interactionsDroppedWithUsers) interactions) below the minimum"
            + (missingRatings > 0 ? "; \(missingRatings) interactions have no rating (ratings unavailable)" : "")
    }
}

/// A cleaned corpus (PROTOCOL section 1). Rows follow `IdOrder`: numeric when all ids are integers.
public struct Dataset: Equatable, Sendable {
    public var name: String
    /// User id of each user row.
    public var userIds: [String]
    /// Item id of each item row (the item universe: items with >= 1 interaction after the user filter).
    public var itemIds: [String]
    /// All interactions, sorted by user row, then chronologically (timestamp, then item row).
    public var interactions: [Interaction]
    /// The explicit rating of each interaction (parallel to `interactions`) when the corpus has one for every
    /// kept interaction (ml-100k's `rating` column, u.data's third field, a JSONL `rating` key); else nil.
    /// Only rating tasks read it: the ranking protocol stays implicit (every interaction counts once).
    public var ratings: [Float]? = nil
    /// Item field names in file order (e.g. movie_title, release_year, class), without the id field.
    public var itemFieldNames: [String]
    /// Field name -> value for each item row ("" when the item has no value).
    public var itemFields: [String: [String]]
    /// User field names in file order (e.g. age, gender, occupation, zip_code).
    public var userFieldNames: [String]
    /// Field name -> value for each user row ("" when missing).
    public var userFields: [String: [String]]
    /// The item file the fields came from (nil: the corpus has none, so items have no text of their own).
    public var itemSource: String?
    public var report: LoadReport

    public var userCount: Int { userIds.count }
    public var itemCount: Int { itemIds.count }

    /// The value of an item field, or nil when the corpus has no such field.
    public func itemField(_ name: String, row: Int) -> String? { itemFields[name]?[row] }
    /// The value of a user field, or nil when the corpus has no such field.
    public func userField(_ name: String, row: Int) -> String? { userFields[name]?[row] }

    /// Start offset of each user's interactions in `interactions` (userCount + 1 entries).
    public func userOffsets() -> [Int] {
        var offsets = [Int](repeating: 0, count: userCount + 1)
        for x in interactions { offsets[Int(x.userRow) + 1] += 1 }
        for u in 0..<userCount { offsets[u + 1] += offsets[u] }
        return offsets
    }
}

/// A corpus as read from files, before the protocol's cleaning.
struct RawCorpus {
    /// One interaction, its 1-based line in `interactionsPath` and its explicit rating (nil: none or empty).
    struct Record { var user: String; var item: String; var timestamp: Double; var line = 0; var rating: Float? = nil }
    var name: String
    /// The file the records come from, and the item file read (nil: the corpus has none).
    var interactionsPath = ""
    /// True when the interactions file has a rating column / field (some values may still be empty).
    var hasRatings = false
    var itemSource: String? = nil
    var records: [Record] = []
    var itemFieldNames: [String] = []
    var itemRecords: [String: [String: String]] = [:]
    var userFieldNames: [String] = []
    var userRecords: [String: [String: String]] = [:]
    var errors = LineErrorCollector()

    init(name: String) { self.name = name }

    /// Applies PROTOCOL section 1: refuse or skip bad lines, keep the earliest (user, item) occurrence,
    /// drop users below the minimum, restrict items to those still interacted with, order rows.
    func clean(_ options: LoadOptions) throws -> Dataset {
        // An interaction whose item has no row in the item file is a bad line (refused, or skipped and counted).
        var errors = self.errors
        var noText = Set<Int>()
        if let itemSource, !options.itemIdAsText {
            for (i, r) in records.enumerated() where itemRecords[r.item] == nil {
                errors.add(interactionsPath, r.line, "item '\(r.item)' has no row in \(itemSource) (no text)")
                noText.insert(i)
            }
        }
        try errors.check(skipBadLines: options.skipBadLines)
        var report = LoadReport()
        report.skippedLines = errors.count
        report.skippedErrors = errors.errors
        report.rawInteractions = records.count

        // Deduplicate: earliest timestamp wins, file order breaks equal timestamps.
        struct Key: Hashable { var user: String; var item: String }
        var firstIndex: [Key: Int] = [:]
        firstIndex.reserveCapacity(records.count)
        for (i, r) in records.enumerated() where !noText.contains(i) {
            let key = Key(user: r.user, item: r.item)
            if let j = firstIndex[key] {
                if r.timestamp < records[j].timestamp { firstIndex[key] = i }
            } else {
                firstIndex[key] = i
            }
        }
        let kept = firstIndex.values.sorted()
        report.duplicatesDropped = records.count - noText.count - kept.count

        var perUser: [String: Int] = [:]
        for i in kept { perUser[records[i].user, default: 0] += 1 }
        let keptUsers = perUser.filter { $0.value >= options.minUserInteractions }
        report.usersDropped = perUser.count - keptUsers.count
        report.interactionsDroppedWithUsers = perUser.values.filter { $0 < options.minUserInteractions }.reduce(0, +)
        let survivors = kept.filter { keptUsers[records[$0].user] != nil }
        guard !survivors.isEmpty else {
            throw DataError.invalid("\(name): no interactions left after dropping users with fewer than "
                + "\(options.minUserInteractions) interactions")
        }

        let userIds = IdOrder.sorted(keptUsers.keys)
        let itemIds = IdOrder.sorted(survivors.map { records[$0].item })
        var userRow: [String: Int32] = [:]
        for (r, id) in userIds.enumerated() { userRow[id] = Int32(r) }
        var itemRow: [String: Int32] = [:]
        for (r, id) in itemIds.enumerated() { itemRow[id] = Int32(r) }
        // (user row, timestamp, item row) is a total order here (one record per user and item), so sorting the
        // records first gives the interactions and their ratings in the same order.
        let ordered = survivors.map { i -> (Interaction, Float?) in
            let r = records[i]
            return (Interaction(userRow: userRow[r.user]!, itemRow: itemRow[r.item]!, timestamp: r.timestamp), r.rating)
        }.sorted {
            if $0.0.userRow != $1.0.userRow { return $0.0.userRow < $1.0.userRow }
            if $0.0.timestamp != $1.0.timestamp { return $0.0.timestamp < $1.0.timestamp }
            return $0.0.itemRow < $1.0.itemRow
        }
        let interactions = ordered.map(\.0)
        var ratings: [Float]? = nil
        if hasRatings {
            let known = ordered.compactMap(\.1)
            report.missingRatings = ordered.count - known.count
            if known.count == ordered.count { ratings = known }
        }

        var itemFields: [String: [String]] = [:]
        for f in itemFieldNames { itemFields[f] = itemIds.map { itemRecords[$0]?[f] ?? "" } }
        var userFields: [String: [String]] = [:]
        for f in userFieldNames { userFields[f] = userIds.map { userRecords[$0]?[f] ?? "" } }
        return Dataset(name: name, userIds: userIds, itemIds: itemIds, interactions: interactions, ratings: ratings,
                       itemFieldNames: itemFieldNames, itemFields: itemFields,
                       userFieldNames: userFieldNames, userFields: userFields, itemSource: itemSource, report: report)
    }
}
