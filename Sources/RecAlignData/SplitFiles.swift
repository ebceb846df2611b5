// SplitFiles: writes a Split (and item texts) in the protocol's TSV layout and reads it back unchanged.
import Foundation
import RecAlignFormats

/// Counts written to `meta.json`.
public struct SplitMeta: Codable, Equatable, Sendable {
    public var users: Int
    public var items: Int
    public var train: Int
    public var valid: Int
    public var test: Int
    public var coldItems: Int
    public var coldTrain: Int
    public var coldValid: Int
    public var coldTest: Int
    enum CodingKeys: String, CodingKey {
        case users, items, train, valid, test
        case coldItems = "cold_items", coldTrain = "cold_train", coldValid = "cold_valid", coldTest = "cold_test"
    }
    public init(_ s: Split) {
        users = s.userCount; items = s.itemCount; train = s.train.count; valid = s.valid.count; test = s.test.count
        coldItems = s.cold.coldItems.count; coldTrain = s.cold.train.count
        coldValid = s.cold.validUsers.count; coldTest = s.cold.testUsers.count
    }
}

/// The split folder layout (PROTOCOL section 2): users.tsv, items.tsv, train.tsv, valid.tsv, test.tsv,
/// meta.json, cold/cold_items.tsv, cold/train.tsv, cold/valid.tsv, cold/test.tsv. Every file is written
/// atomically; `read` gives back the same `Split` and texts.
public enum SplitFiles {
    static let interHeader = ["user_id", "item_id", "timestamp"]

    /// Writes `split` and the item texts (one per item row) into `folder`.
    public static func write(_ split: Split, itemTexts: [String], to folder: String) throws {
        guard itemTexts.count == split.itemCount else {
            throw DataError.invalid("item texts: \(itemTexts.count) texts for \(split.itemCount) items")
        }
        let dir = folder as NSString
        func path(_ n: String) -> String { dir.appendingPathComponent(n) }
        for id in split.userIds { try TSVFormat.checkField(id, "user id", path("users.tsv")) }
        for id in split.itemIds { try TSVFormat.checkField(id, "item id", path("items.tsv")) }
        for t in itemTexts { try TSVFormat.checkField(t, "item text", path("items.tsv")) }

        var users = "row\tuser_id\n"
        for (r, id) in split.userIds.enumerated() { users += "\(r)\t\(id)\n" }
        try AtomicFile.write(users, to: path("users.tsv"))

        var items = "row\titem_id\ttext\n"
        for (r, id) in split.itemIds.enumerated() { items += "\(r)\t\(id)\t\(itemTexts[r])\n" }
        try AtomicFile.write(items, to: path("items.tsv"))

        try AtomicFile.write(sequencesText(split.train, split), to: path("train.tsv"))
        try AtomicFile.write(heldOutText(split.valid, users: nil, split), to: path("valid.tsv"))
        try AtomicFile.write(heldOutText(split.test, users: nil, split), to: path("test.tsv"))

        var coldItems = "row\titem_id\n"
        for r in split.cold.coldItems { coldItems += "\(r)\t\(split.itemIds[Int(r)])\n" }
        try AtomicFile.write(coldItems, to: path("cold/cold_items.tsv"))
        try AtomicFile.write(sequencesText(split.cold.train, split), to: path("cold/train.tsv"))
        try AtomicFile.write(heldOutText(split.valid, users: split.cold.validUsers, split), to: path("cold/valid.tsv"))
        try AtomicFile.write(heldOutText(split.test, users: split.cold.testUsers, split), to: path("cold/test.tsv"))

        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        var meta = try enc.encode(SplitMeta(split))
        meta.append(0x0A)
        try AtomicFile.write(meta, to: path("meta.json"))
    }

    static func sequencesText(_ seq: InteractionSequences, _ split: Split) -> String {
        var s = interHeader.joined(separator: "\t") + "\n"
        for u in 0..<seq.userCount {
            for k in seq.offsets[u]..<seq.offsets[u + 1] {
                s += "\(split.userIds[u])\t\(split.itemIds[Int(seq.items[k])])\t\(TSVFormat.timestamp(seq.timestamps[k]))\n"
            }
        }
        return s
    }

    static func heldOutText(_ rows: [HeldOut], users: [Int32]?, _ split: Split) -> String {
        var s = interHeader.joined(separator: "\t") + "\n"
        for u in users.map({ $0.map(Int.init) }) ?? Array(rows.indices) {
            s += "\(split.userIds[u])\t\(split.itemIds[Int(rows[u].itemRow)])\t\(TSVFormat.timestamp(rows[u].timestamp))\n"
        }
        return s
    }

    /// Reads a split folder written by `write`. Throws naming the file and line of any inconsistency.
    public static func read(from folder: String) throws -> (split: Split, itemTexts: [String]) {
        let dir = folder as NSString
        func path(_ n: String) -> String { dir.appendingPathComponent(n) }

        var userIds: [String] = []
        for (n, f) in try TSVFormat.read(path("users.tsv"), header: ["row", "user_id"]) {
            guard Int(f[0]) == userIds.count else {
                throw TSVFormat.lineError(path("users.tsv"), n, "row '\(f[0])' should be \(userIds.count)")
            }
            userIds.append(String(f[1]))
        }
        var itemIds: [String] = [], texts: [String] = []
        for (n, f) in try TSVFormat.read(path("items.tsv"), header: ["row", "item_id", "text"]) {
            guard Int(f[0]) == itemIds.count else {
                throw TSVFormat.lineError(path("items.tsv"), n, "row '\(f[0])' should be \(itemIds.count)")
            }
            itemIds.append(String(f[1])); texts.append(String(f[2]))
        }
        var userRow: [String: Int] = [:]
        for (r, id) in userIds.enumerated() { userRow[id] = r }
        var itemRow: [String: Int32] = [:]
        for (r, id) in itemIds.enumerated() { itemRow[id] = Int32(r) }

        func rows(_ name: String) throws -> [(line: Int, user: Int, item: Int32, ts: Double)] {
            let p = path(name)
            return try TSVFormat.read(p, header: interHeader).map { n, f in
                guard let u = userRow[String(f[0])] else { throw TSVFormat.lineError(p, n, "unknown user id '\(f[0])'") }
                guard let i = itemRow[String(f[1])] else { throw TSVFormat.lineError(p, n, "unknown item id '\(f[1])'") }
                guard let t = parseTimestamp(f[2]) else { throw TSVFormat.lineError(p, n, "timestamp '\(f[2])' is not a number") }
                return (n, u, i, t)
            }
        }
        func sequences(_ name: String) throws -> InteractionSequences {
            var per = [[(item: Int32, timestamp: Double)]](repeating: [], count: userIds.count)
            for r in try rows(name) { per[r.user].append((r.item, r.ts)) }
            return InteractionSequences(perUser: per)
        }
        func heldOut(_ name: String) throws -> [HeldOut] {
            var out = [HeldOut?](repeating: nil, count: userIds.count)
            for r in try rows(name) {
                guard out[r.user] == nil else { throw TSVFormat.lineError(path(name), r.line, "second row for user '\(userIds[r.user])'") }
                out[r.user] = HeldOut(itemRow: r.item, timestamp: r.ts)
            }
            if let u = out.firstIndex(where: { $0 == nil }) {
                throw DataError.invalid("\(path(name)): no row for user '\(userIds[u])'")
            }
            return out.map { $0! }
        }
        let train = try sequences("train.tsv")
        let valid = try heldOut("valid.tsv"), test = try heldOut("test.tsv")

        var coldItems: [Int32] = []
        for (n, f) in try TSVFormat.read(path("cold/cold_items.tsv"), header: ["row", "item_id"]) {
            guard let r = Int32(f[0]), r >= 0, Int(r) < itemIds.count, itemIds[Int(r)] == f[1] else {
                throw TSVFormat.lineError(path("cold/cold_items.tsv"), n, "row '\(f[0])' does not hold item '\(f[1])'")
            }
            coldItems.append(r)
        }
        var isCold = [Bool](repeating: false, count: itemIds.count)
        for r in coldItems { isCold[Int(r)] = true }
        func coldUsers(_ name: String, _ held: [HeldOut]) throws -> [Int32] {
            var users: [Int32] = []
            for r in try rows(name) {
                guard held[r.user] == HeldOut(itemRow: r.item, timestamp: r.ts), isCold[Int(r.item)] else {
                    throw TSVFormat.lineError(path(name), r.line, "not a held-out row with a cold item")
                }
                users.append(Int32(r.user))
            }
            return users.sorted()
        }
        let cold = ColdSplit(coldItems: coldItems.sorted(), isCold: isCold, train: try sequences("cold/train.tsv"),
                             validUsers: try coldUsers("cold/valid.tsv", valid),
                             testUsers: try coldUsers("cold/test.tsv", test))
        let split = Split(userIds: userIds, itemIds: itemIds, train: train, valid: valid, test: test, cold: cold)
        return (split, texts)
    }
}
